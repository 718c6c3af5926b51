//! `GET /v3/users/me/spaces` (insomnia-wire-newer.md §3.1): the caller's organizations as the
//! newest app lists them, with the ids `/v1/organizations` gives, a page at a time.
//!
//! Query (brackets raw or percent-encoded, as the SDK sends them):
//! `page[size]=N` (1 to 200, default 200: the app always asks for 200; more is refused, not
//! clamped, so a client learns the limit), `page[after]=CURSOR` or `page[before]=CURSOR` (not
//! both), `filter[name][contains]=TEXT` (the shown name, case-insensitive), and
//! `sort=name|-name|created_at|-created_at` (default: the personal organization first, then the
//! teams oldest first, as `/v1/organizations`). Every order ends on the organization id, so it is
//! total and deterministic. Any other parameter is refused.
//!
//! A cursor is opaque to clients: lowercase hex of a small JSON array holding the sort it was
//! made for and the sort key of a space. It is checked, never trusted: one that does not decode,
//! or was made for another sort, is a 400; and it only positions the page, since the query is
//! always confined to the caller's own memberships. `meta.page.next` is the path of the next page
//! (`page[after]` = the last space of this one) or `null` on the last page, which the app's loop
//! relies on; `previous` likewise with `page[before]`; `first` drops the cursor; `last` is not
//! sent (it would cost another query).

use axum::extract::{Query, State, rejection::QueryRejection};
use hypnos_crypto::{
    encoding::{encode_uri_component, from_hex, to_hex},
    wire::v3::{CursorMeta, CursorMetaPage, Space, SpaceList},
};
use serde_json::{Value, json};

use super::{V3Error, V3Result};
use crate::{
    error::ApiError,
    permissions::{self, Permission},
    session::Authenticated,
    state::{AppState, now_ms},
    storage::{Role, SpaceEntry, SpaceKey, SpaceOrder, SpaceQuery},
};
use utoipa_axum::{router::OpenApiRouter, routes};

/// The page size by default, and the largest one served.
const PAGE_MAX: u32 = 200;
/// The longest name filter accepted, in characters (names are at most 100).
const MAX_FILTER: usize = 100;
/// The longest cursor accepted (a name key of 100 characters, in hex, fits).
const MAX_CURSOR: usize = 2_048;
/// The list's own path, which the links name.
const PATH: &str = "/v3/users/me/spaces";

/// The routes of this module.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// The sorts a client may ask for, by name.
const SORTS: [(&str, SpaceOrder); 4] = [
    ("created_at", SpaceOrder::CreatedAt { descending: false }),
    ("-created_at", SpaceOrder::CreatedAt { descending: true }),
    ("name", SpaceOrder::Name { descending: false }),
    ("-name", SpaceOrder::Name { descending: true }),
];

/// Which way a cursor points.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Direction {
    After,
    Before,
}

impl Direction {
    fn parameter(self) -> &'static str {
        match self {
            Direction::After => "page[after]",
            Direction::Before => "page[before]",
        }
    }
}

/// The list's parameters, checked.
#[derive(Debug)]
struct ListParams {
    size: u32,
    /// The sort's name as asked (`None`: the default order).
    sort: Option<&'static str>,
    order: SpaceOrder,
    name_contains: Option<String>,
    cursor: Option<(Direction, SpaceKey)>,
}

impl ListParams {
    fn parse(pairs: Vec<(String, String)>) -> V3Result<Self> {
        let mut size = None;
        let mut sort: Option<(&'static str, SpaceOrder)> = None;
        let mut name_contains = None;
        let mut cursors = Vec::new();
        let mut seen: Vec<String> = Vec::new();
        for (key, value) in pairs {
            if seen.contains(&key) {
                return Err(V3Error::query(
                    &key,
                    "unique",
                    format!("{key} may be given once"),
                ));
            }
            match key.as_str() {
                "page[size]" => {
                    let parsed = value
                        .parse::<u32>()
                        .ok()
                        .filter(|size| (1..=PAGE_MAX).contains(size));
                    size = Some(parsed.ok_or_else(|| {
                        V3Error::query(
                            "page[size]",
                            "range",
                            format!("page[size] must be a whole number from 1 to {PAGE_MAX}"),
                        )
                    })?);
                }
                "page[after]" | "page[before]" => {
                    let direction = if key == "page[after]" {
                        Direction::After
                    } else {
                        Direction::Before
                    };
                    cursors.push((direction, value));
                }
                "filter[name][contains]" => {
                    if value.chars().count() > MAX_FILTER || value.chars().any(char::is_control) {
                        return Err(V3Error::query(
                            "filter[name][contains]",
                            "max_length",
                            format!(
                                "filter[name][contains] must be at most {MAX_FILTER} characters \
                                 without control characters"
                            ),
                        ));
                    }
                    // An empty filter keeps everything.
                    name_contains = Some(value).filter(|text| !text.is_empty());
                }
                "sort" => {
                    let known = SORTS.iter().find(|(name, _)| *name == value).copied();
                    sort = Some(known.ok_or_else(|| {
                        let names: Vec<&str> = SORTS.iter().map(|(name, _)| *name).collect();
                        V3Error::query(
                            "sort",
                            "enum",
                            format!("sort must be one of {}", names.join(", ")),
                        )
                    })?);
                }
                _ => {
                    return Err(V3Error::query(
                        &key,
                        "unknown",
                        format!(
                            "unknown parameter {key}: this list takes page[size], page[after], \
                             page[before], filter[name][contains] and sort"
                        ),
                    ));
                }
            }
            seen.push(key);
        }
        let (sort, order) = match sort {
            Some((name, order)) => (Some(name), order),
            None => (None, SpaceOrder::Default),
        };
        let cursor = match cursors.as_slice() {
            [] => None,
            [(direction, text)] => Some((*direction, decode_cursor(*direction, text, sort)?)),
            _ => {
                return Err(V3Error::query(
                    "page[before]",
                    "exclusive",
                    "give page[after] or page[before], not both",
                ));
            }
        };
        Ok(Self {
            size: size.unwrap_or(PAGE_MAX),
            sort,
            order,
            name_contains,
            cursor,
        })
    }

    /// The path of this list with the same size, filter and sort, at `cursor`.
    fn link(&self, cursor: Option<(Direction, &SpaceKey)>) -> String {
        let mut link = format!("{PATH}?page[size]={}", self.size);
        if let Some((direction, key)) = cursor {
            link.push('&');
            link.push_str(direction.parameter());
            link.push('=');
            link.push_str(&encode_cursor(self.sort, key));
        }
        if let Some(text) = &self.name_contains {
            link.push_str("&filter[name][contains]=");
            link.push_str(&encode_uri_component(text));
        }
        if let Some(sort) = self.sort {
            link.push_str("&sort=");
            link.push_str(sort);
        }
        link
    }
}

/// The name a cursor carries for the sort it was made for.
fn sort_tag(sort: Option<&str>) -> &str {
    sort.unwrap_or("default")
}

/// A cursor: hex of `[sort, key…]`.
fn encode_cursor(sort: Option<&str>, key: &SpaceKey) -> String {
    let tag = sort_tag(sort);
    let array = match key {
        SpaceKey::Default {
            personal,
            created_at,
            id,
        } => json!([tag, personal, created_at, id]),
        SpaceKey::CreatedAt { created_at, id } => json!([tag, created_at, id]),
        SpaceKey::Name { name, id } => json!([tag, name, id]),
    };
    to_hex(array.to_string().as_bytes())
}

/// The key in a cursor made by [`encode_cursor`] for `sort`; anything else is a 400.
fn decode_cursor(direction: Direction, text: &str, sort: Option<&str>) -> V3Result<SpaceKey> {
    let field = direction.parameter();
    let invalid = || {
        V3Error::query(
            field,
            "cursor",
            format!("{field} is not a cursor this list gave out for this sort"),
        )
    };
    if text.len() > MAX_CURSOR {
        return Err(invalid());
    }
    let bytes = from_hex(text, "cursor").map_err(|_| invalid())?;
    let Ok(Value::Array(items)) = serde_json::from_slice::<Value>(&bytes) else {
        return Err(invalid());
    };
    let tag = sort_tag(sort);
    let key =
        match (sort, items.as_slice()) {
            (
                None,
                [
                    Value::String(t),
                    Value::Bool(personal),
                    created_at,
                    Value::String(id),
                ],
            ) if t == tag => SpaceKey::Default {
                personal: *personal,
                created_at: created_at.as_i64().ok_or_else(invalid)?,
                id: id.as_str().into(),
            },
            (
                Some("created_at" | "-created_at"),
                [Value::String(t), created_at, Value::String(id)],
            ) if t == tag => SpaceKey::CreatedAt {
                created_at: created_at.as_i64().ok_or_else(invalid)?,
                id: id.as_str().into(),
            },
            (
                Some("name" | "-name"),
                [Value::String(t), Value::String(name), Value::String(id)],
            ) if t == tag => SpaceKey::Name {
                name: name.clone(),
                id: id.as_str().into(),
            },
            _ => return Err(invalid()),
        };
    Ok(key)
}

/// One space as the SDK types it.
fn to_space(entry: SpaceEntry) -> Space {
    Space {
        id: entry.organization.id.into(),
        name: entry.organization.display_name,
        picture: None,
        owner_first_name: Some(entry.owner_first_name),
        owner_last_name: Some(entry.owner_last_name),
        owner_email: Some(entry.owner_email),
        total_members: entry.total_members,
        total_invites: entry.total_invites,
        total_admins: entry.total_admins,
        is_owner: entry.role == Role::Owner,
        // The permission table's rule: everyone but the owner may leave (and the owner of a
        // personal organization is its only member).
        can_leave: permissions::allows(entry.role, Permission::LeaveOrganization),
    }
}

/// A page of the caller's organizations.
#[utoipa::path(
    get, operation_id = "v3_spaces_list", path = "/v3/users/me/spaces", tag = "v3", security(("session" = [])),
    params(("page[size]" = Option<u32>, Query, description = "Spaces per page, 1 to 200 (default 200)"), ("page[after]" = Option<String>, Query, description = "The cursor after which the page starts"), ("page[before]" = Option<String>, Query, description = "The cursor before which the page ends"), ("filter[name][contains]" = Option<String>, Query, description = "Only spaces whose name holds this text"), ("sort" = Option<String>, Query, description = "`name`, `-name`, `created_at` or `-created_at`")),
    responses((status = 200, body = SpaceList))
)]
async fn list(
    State(state): State<AppState>,
    caller: Authenticated,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> V3Result<axum::Json<SpaceList>> {
    let Query(pairs) = query
        .map_err(|_| ApiError::BadRequest("the query string is not valid URL encoding".into()))?;
    let params = ListParams::parse(pairs)?;
    let backwards = matches!(params.cursor, Some((Direction::Before, _)));
    // One more than a page, to know whether another page follows in the direction of travel.
    let mut entries = state
        .store
        .spaces_of(SpaceQuery {
            account_id: &caller.account.id,
            order: params.order,
            name_contains: params.name_contains.as_deref(),
            from: params.cursor.as_ref().map(|(_, key)| key),
            backwards,
            limit: params.size + 1,
            now_ms: now_ms(),
        })
        .await?;
    let more = entries.len() > params.size as usize;
    entries.truncate(params.size as usize);
    if backwards {
        entries.reverse();
    }
    let first = entries.first().map(|entry| params.order.key_of(entry));
    let last = entries.last().map(|entry| params.order.key_of(entry));
    let after = |key: &SpaceKey| params.link(Some((Direction::After, key)));
    let before = |key: &SpaceKey| params.link(Some((Direction::Before, key)));
    // Forwards, what lies behind is known only to exist when this page began at a cursor;
    // backwards, what lies ahead is the page the cursor came from.
    let (next, previous) = if backwards {
        (
            last.as_ref().map(after),
            first.as_ref().filter(|_| more).map(before),
        )
    } else {
        (
            last.as_ref().filter(|_| more).map(after),
            first
                .as_ref()
                .filter(|_| params.cursor.is_some())
                .map(before),
        )
    };
    Ok(axum::Json(SpaceList {
        data: entries.into_iter().map(to_space).collect(),
        meta: CursorMeta {
            page: CursorMetaPage {
                first: Some(params.link(None)),
                last: None,
                next,
                previous,
                size: params.size,
            },
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
            .collect()
    }

    fn field_of(result: V3Result<ListParams>) -> String {
        match result {
            Err(V3Error::Invalid(parameter)) => parameter.field,
            other => panic!("expected an invalid parameter, got {other:?}"),
        }
    }

    #[test]
    fn cursors_round_trip_for_their_own_sort_only() {
        let key = SpaceKey::Name {
            name: "Ünïcode & co".into(),
            id: "org_1".into(),
        };
        let cursor = encode_cursor(Some("-name"), &key);
        assert_eq!(
            decode_cursor(Direction::After, &cursor, Some("-name")).ok(),
            Some(key)
        );
        assert!(decode_cursor(Direction::After, &cursor, Some("name")).is_err());
        assert!(decode_cursor(Direction::After, &cursor, None).is_err());
        let key = SpaceKey::Default {
            personal: true,
            created_at: 7,
            id: "org_2".into(),
        };
        let cursor = encode_cursor(None, &key);
        assert_eq!(
            decode_cursor(Direction::Before, &cursor, None).ok(),
            Some(key)
        );
        for junk in ["", "zz", "5b5d", &to_hex(b"[\"default\",true,\"x\",\"y\"]")] {
            assert!(
                decode_cursor(Direction::After, junk, None).is_err(),
                "{junk}"
            );
        }
    }

    #[test]
    fn parameters_are_checked() {
        let parsed = ListParams::parse(pairs(&[
            ("page[size]", "5"),
            ("filter[name][contains]", "a b"),
            ("sort", "-created_at"),
        ]))
        .expect("valid parameters");
        assert_eq!(parsed.size, 5);
        assert_eq!(
            parsed.link(None),
            "/v3/users/me/spaces?page[size]=5&filter[name][contains]=a%20b&sort=-created_at"
        );
        assert_eq!(
            field_of(ListParams::parse(pairs(&[("page[size]", "201")]))),
            "page[size]"
        );
        assert_eq!(
            field_of(ListParams::parse(pairs(&[("page[size]", "0")]))),
            "page[size]"
        );
        assert_eq!(
            field_of(ListParams::parse(pairs(&[("sort", "owner")]))),
            "sort"
        );
        assert_eq!(
            field_of(ListParams::parse(pairs(&[("page[number]", "2")]))),
            "page[number]"
        );
        assert_eq!(
            field_of(ListParams::parse(pairs(&[
                ("sort", "name"),
                ("sort", "name")
            ]))),
            "sort"
        );
        let cursor = encode_cursor(
            None,
            &SpaceKey::Default {
                personal: false,
                created_at: 1,
                id: "org_x".into(),
            },
        );
        assert_eq!(
            field_of(ListParams::parse(pairs(&[
                ("page[after]", &cursor),
                ("page[before]", &cursor)
            ]))),
            "page[before]"
        );
    }
}
