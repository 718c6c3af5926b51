//! What one GraphQL request may cost the server, checked before and while it runs.
//!
//! - Before parsing, the query text's length and its nesting of `(`, `[` and `{`:
//!   async-graphql's parser (pest, then its own tree walk) recurses once per level of an argument
//!   value before any of async-graphql's limits apply, so a 4 KB list nested thousands deep
//!   overflowed a worker's stack and aborted the process.
//! - After parsing, the fields the request selects with fragments expanded (its complexity), its
//!   top-level fields and its aliases: each top-level field is a resolver that reads the
//!   database, and aliases repeat a field as often as a client likes.
//! - While it runs, the bytes of blob content and snapshot state its answer carries
//!   ([`AnswerBudget`]), and how many of its resolvers use the database at once
//!   ([`STORE_PERMITS`]): async-graphql resolves sibling query fields concurrently.
//!
//! Refusals are GraphQL errors in a 200 answer, as every other GraphQL error: the app shows the
//! message of a 200 answer's first error and loses it on any other status.

use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::{
    ServerError,
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};
use tokio::sync::Semaphore;

use crate::ServerConfig;

/// Longest query text accepted. The app's operations are under 1 KB: documents travel in the
/// variables, which this does not count.
pub const MAX_QUERY_BYTES: usize = 64 * 1024;

/// Deepest nesting of `(`, `[` and `{` in query text. The app's deepest is 4 (operation,
/// field, its arguments or selection, a list); 32 also leaves room for inline input objects.
pub const MAX_NESTING: usize = 32;

/// Resolvers of one request that may use the database at once: sibling query fields would
/// otherwise each hold a connection of the pool at the same time.
pub const STORE_PERMITS: usize = 2;

/// The deepest nesting of brackets in GraphQL text, outside strings and comments, or an error
/// as soon as it passes `max`. Linear in the text and without recursion.
pub fn check_nesting(query: &str, max: usize) -> Result<(), String> {
    let bytes = query.as_bytes();
    let mut depth = 0usize;
    let mut at = 0;
    while at < bytes.len() {
        match bytes[at] {
            b'#' => {
                while at < bytes.len() && !matches!(bytes[at], b'\n' | b'\r') {
                    at += 1;
                }
            }
            b'"' if bytes[at..].starts_with(b"\"\"\"") => {
                // A block string ends at the next `"""` not escaped as `\"""`. Without one, the
                // parser reads `""` as an empty string and goes on from the third quote: so
                // does this count, lest brackets after it be parsed uncounted.
                let mut end = at + 3;
                while end < bytes.len() && !bytes[end..].starts_with(b"\"\"\"") {
                    end += if bytes[end..].starts_with(b"\\\"\"\"") {
                        4
                    } else {
                        1
                    };
                }
                at = if end < bytes.len() { end + 3 } else { at + 2 };
                continue;
            }
            b'"' => {
                at += 1;
                while at < bytes.len() && !matches!(bytes[at], b'"' | b'\n' | b'\r') {
                    at += if bytes[at] == b'\\' { 2 } else { 1 };
                }
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(format!(
                        "the query nests brackets more than {max} deep; the server refuses it \
                         unparsed"
                    ));
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        at += 1;
    }
    Ok(())
}

/// The budgets a parsed document is held to.
#[derive(Debug, Clone, Copy)]
pub struct DocumentLimits {
    /// Most fields selected, fragments expanded.
    pub max_fields: usize,
    /// Most top-level fields, and most aliases.
    pub max_aliases: usize,
}

/// Counts a document's fields (fragments expanded), top-level fields and aliases, stopping at
/// the first budget passed, so that fragments spread into each other exponentially cost no
/// more than the budget to count. async-graphql has already refused fragment cycles and
/// selections nested deeper than its recursion limit, so the walk is shallow.
pub fn check_document(document: &ExecutableDocument, limits: DocumentLimits) -> Result<(), String> {
    let mut tally = Tally {
        document,
        limits,
        fields: 0,
        spreads: 0,
        roots: 0,
        aliases: 0,
    };
    for (_, operation) in document.operations.iter() {
        tally.walk(&operation.node.selection_set.node, 0)?;
    }
    Ok(())
}

struct Tally<'a> {
    document: &'a ExecutableDocument,
    limits: DocumentLimits,
    fields: usize,
    spreads: usize,
    roots: usize,
    aliases: usize,
}

impl Tally<'_> {
    fn walk(&mut self, selection_set: &SelectionSet, depth: usize) -> Result<(), String> {
        let max_fields = self.limits.max_fields;
        let max_aliases = self.limits.max_aliases;
        for selection in &selection_set.items {
            match &selection.node {
                Selection::Field(field) => {
                    self.fields += 1;
                    if self.fields > max_fields {
                        return Err(format!(
                            "the request selects more than {max_fields} fields (its complexity \
                             budget, fragments expanded)"
                        ));
                    }
                    if depth == 0 {
                        self.roots += 1;
                        if self.roots > max_aliases {
                            return Err(format!(
                                "the request selects more than {max_aliases} top-level fields"
                            ));
                        }
                    }
                    if field.node.alias.is_some() {
                        self.aliases += 1;
                        if self.aliases > max_aliases {
                            return Err(format!(
                                "the request uses more than {max_aliases} aliases"
                            ));
                        }
                    }
                    self.walk(&field.node.selection_set.node, depth + 1)?;
                }
                Selection::FragmentSpread(spread) => {
                    // Spreads count against the budget too: they are work to expand.
                    self.spreads += 1;
                    if self.spreads > max_fields {
                        return Err(format!(
                            "the request spreads fragments more than {max_fields} times"
                        ));
                    }
                    if let Some(fragment) =
                        self.document.fragments.get(&spread.node.fragment_name.node)
                    {
                        self.walk(&fragment.node.selection_set.node, depth)?;
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.walk(&fragment.node.selection_set.node, depth)?;
                }
            }
        }
        Ok(())
    }
}

/// The bytes of blob content and snapshot state one answer may still carry. Resolvers charge
/// what they are about to produce (before loading it when the store can tell its size) and
/// fail their field once the answer would pass the limit.
#[derive(Debug)]
pub struct AnswerBudget {
    limit: usize,
    remaining: AtomicUsize,
}

impl AnswerBudget {
    /// A budget of `limit` bytes.
    pub fn new(limit: usize) -> Self {
        Self {
            limit,
            remaining: AtomicUsize::new(limit),
        }
    }

    /// The bytes the answer may still carry.
    pub fn remaining(&self) -> u64 {
        self.remaining.load(Ordering::SeqCst) as u64
    }

    /// Gives back `bytes` taken by [`AnswerBudget::charge`] for a reservation now replaced by
    /// the exact size.
    pub fn refund(&self, bytes: u64) {
        let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        let limit = self.limit;
        // Never fails: the closure always returns a value.
        let _ = self
            .remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                Some(left.saturating_add(bytes).min(limit))
            });
    }

    /// Takes `bytes` from the budget, or fails (taking nothing) if fewer remain.
    pub fn charge(&self, bytes: u64) -> async_graphql::Result<()> {
        let bytes = usize::try_from(bytes).unwrap_or(usize::MAX);
        self.remaining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| {
                left.checked_sub(bytes)
            })
            .map(drop)
            .map_err(|_| {
                async_graphql::Error::new(format!(
                    "this answer would carry more than {} bytes, the server's limit for one \
                     answer: ask for fewer items at once",
                    self.limit
                ))
            })
    }
}

/// This request's permits to use the store: [`STORE_PERMITS`] of them.
pub struct StorePermits(pub Semaphore);

impl Default for StorePermits {
    fn default() -> Self {
        Self(Semaphore::new(STORE_PERMITS))
    }
}

/// The request-level limits, before execution: the text's length and nesting (before anything
/// parses it), then the parsed document's budgets. The document parsed here is kept in the
/// request, so execution does not parse it again.
pub fn check_request(
    request: &mut async_graphql::Request,
    config: &ServerConfig,
) -> Result<(), ServerError> {
    if request.query.len() > MAX_QUERY_BYTES {
        return Err(ServerError::new(
            format!(
                "the query text is longer than {MAX_QUERY_BYTES} bytes (send documents in \
                 variables)"
            ),
            None,
        ));
    }
    check_nesting(&request.query, MAX_NESTING)
        .map_err(|message| ServerError::new(message, None))?;
    let limits = DocumentLimits {
        max_fields: config.graphql_max_complexity,
        max_aliases: config.graphql_max_aliases,
    };
    let document = request.parsed_query()?;
    check_document(document, limits).map_err(|message| ServerError::new(message, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_brackets_outside_strings_and_comments() {
        assert!(check_nesting("{ a(x: [[1]]) { b } }", 4).is_ok());
        assert!(check_nesting("{ a(x: [[[1]]]) { b } }", 4).is_err());
        let quoted = format!("{{ a(x: \"{}\") }}", "[".repeat(1000));
        assert!(check_nesting(&quoted, 3).is_ok());
        let block = format!("{{ a(x: \"\"\"{} \\\"\"\" \"\"\") }}", "{".repeat(1000));
        assert!(check_nesting(&block, 3).is_ok());
        let commented = format!("# {}\n{{ a }}", "(".repeat(1000));
        assert!(check_nesting(&commented, 1).is_ok());
        let escaped = format!("{{ a(x: \"\\\"{}\") }}", "[".repeat(100));
        assert!(check_nesting(&escaped, 3).is_ok());
        // An unclosed block string is `""` and then a string to the parser: what follows it
        // is parsed, so it counts.
        let unclosed = format!(
            "{{ a(x: [\"\"\"a\" {}1{}]) }}",
            "[".repeat(100),
            "]".repeat(100)
        );
        assert!(check_nesting(&unclosed, 32).is_err());
        assert!(
            async_graphql::parser::parse_query(format!(
                "{{ a(x: [\"\"\"a\" {}1{}]) }}",
                "[".repeat(3),
                "]".repeat(3)
            ))
            .is_ok()
        );
    }

    #[test]
    fn fragments_are_counted_expanded_and_stop_at_the_budget() {
        let mut text = String::from("{ ...f0 }\n");
        for level in 0..40 {
            let next = level + 1;
            text.push_str(&format!(
                "fragment f{level} on QueryRoot {{ ...f{next} ...f{next} }}\n"
            ));
        }
        text.push_str("fragment f40 on QueryRoot { a }\n");
        let document = async_graphql::parser::parse_query(&text).expect("it parses");
        let limits = DocumentLimits {
            max_fields: 100,
            max_aliases: 10,
        };
        assert!(check_document(&document, limits).is_err());
        let aliased = async_graphql::parser::parse_query("{ a: x b: x c: x }").expect("parses");
        let two = DocumentLimits {
            max_fields: 100,
            max_aliases: 2,
        };
        assert!(check_document(&aliased, two).is_err());
        let one_root = async_graphql::parser::parse_query("{ x { a: y b: y } }").expect("parses");
        assert!(check_document(&one_root, two).is_ok());
    }

    #[test]
    fn the_budget_refuses_what_would_pass_it() {
        let budget = AnswerBudget::new(10);
        assert!(budget.charge(6).is_ok());
        assert!(budget.charge(5).is_err());
        assert!(budget.charge(4).is_ok());
        assert!(budget.charge(1).is_err());
    }
}
