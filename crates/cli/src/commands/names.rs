//! Organizations and team projects by name as well as by id: `--org Acme` for `--org
//! org_5e1f…`. An argument shaped like an id (`org_…`, `proj_…`) is taken as one, unread; a
//! name is looked up among what the account sees, exactly first, then ignoring case. No match,
//! or more than one, is an error that lists the candidates with their ids.

use anyhow::bail;
use hypnos_client::{Api, orgs};

/// The id of the organization `given` names (its id, or its name).
pub async fn org_id(api: &Api, session: &str, given: &str) -> anyhow::Result<String> {
    if given.starts_with("org_") {
        return Ok(given.to_owned());
    }
    let known: Vec<(String, String)> = orgs::list(api, session)
        .await?
        .into_iter()
        .map(|org| (org.id, org.display_name))
        .collect();
    pick("organization", given, &known, "hypnos org list")
}

/// The id of the team project `given` names in the organization `org` (an id).
pub async fn team_project_id(
    api: &Api,
    session: &str,
    org: &str,
    given: &str,
) -> anyhow::Result<String> {
    if given.starts_with("proj_") {
        return Ok(given.to_owned());
    }
    let known: Vec<(String, String)> = orgs::team_projects(api, session, org)
        .await?
        .data
        .into_iter()
        .map(|project| (project.id, project.name))
        .collect();
    pick(
        "team project",
        given,
        &known,
        &format!("hypnos team-project list {org}"),
    )
}

/// The one id of `known` (id, name) whose name is `given`: exactly, else ignoring case.
fn pick(kind: &str, given: &str, known: &[(String, String)], list: &str) -> anyhow::Result<String> {
    let exact: Vec<_> = known.iter().filter(|(_, name)| name == given).collect();
    let matches = if exact.is_empty() {
        known
            .iter()
            .filter(|(_, name)| name.to_lowercase() == given.to_lowercase())
            .collect()
    } else {
        exact
    };
    match matches.as_slice() {
        [(id, _)] => Ok(id.clone()),
        [] => bail!("no {kind} is named {given:?} ({list} shows them)"),
        several => bail!(
            "{} {kind}s are named {given:?}; name one by its id: {}",
            several.len(),
            several
                .iter()
                .map(|(id, name)| format!("{id} ({name})"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<(String, String)> {
        [
            ("org_1", "Acme"),
            ("org_2", "acme"),
            ("org_3", "Beta"),
            ("org_4", "Gamma"),
            ("org_5", "Gamma"),
        ]
        .iter()
        .map(|(id, name)| ((*id).to_owned(), (*name).to_owned()))
        .collect()
    }

    #[test]
    fn an_exact_name_wins_over_one_that_differs_in_case() {
        assert_eq!(
            pick("organization", "acme", &known(), "").expect("one match"),
            "org_2"
        );
        assert_eq!(
            pick("organization", "beta", &known(), "").expect("one match"),
            "org_3"
        );
    }

    #[test]
    fn an_ambiguous_or_unknown_name_lists_what_there_is() {
        let ambiguous = pick("organization", "Gamma", &known(), "").expect_err("two");
        assert!(
            ambiguous
                .to_string()
                .contains("org_4 (Gamma), org_5 (Gamma)"),
            "{ambiguous}"
        );
        let by_case = pick("organization", "ACME", &known(), "").expect_err("two by case");
        assert!(
            by_case.to_string().contains("org_1 (Acme), org_2 (acme)"),
            "{by_case}"
        );
        let unknown = pick("team project", "Delta", &known(), "hypnos org list").expect_err("none");
        assert!(unknown.to_string().contains("hypnos org list"), "{unknown}");
    }
}
