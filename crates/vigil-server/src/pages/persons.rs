//! The person page: identifiers, events timeline, notes, candidate links
//! with their evidence (accept/reject), exact links, and the person's
//! de-confliction alerts.

use crate::pages::PageRouter;
use askama::Template;
use axum::extract::Path;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;

#[allow(unused_imports)]
use super::Times;
use super::{Chrome, PageResult, fail, render};
use crate::auth::{CsrfForm, WebCaller};
use crate::problem::Problem;

pub fn routes(r: PageRouter) -> PageRouter {
    r.get("/persons/{id}", show)
        .post("/persons/{id}/notes", add_note)
        .post("/persons/{id}/candidates/{cid}/{decision}", decide)
        .post("/persons/{id}/unmerge", unmerge)
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    chrome: Chrome,
    d: vigil_store::PersonDetail,
    candidates: Vec<vigil_store::StoredCandidate>,
    links: Vec<vigil_store::ExactLink>,
    alerts: Vec<vigil_store::Alert>,
}

impl PersonPage {
    /// The other person of a candidate, seen from this page's person.
    fn other<'a>(&self, c: &'a vigil_store::StoredCandidate) -> &'a vigil_store::CandidatePerson {
        if c.person_a.id == self.d.person.id {
            &c.person_b
        } else {
            &c.person_a
        }
    }
}

async fn show(c: WebCaller, id: Option<Path<i64>>) -> PageResult {
    let Some(Path(id)) = id else {
        return Err(fail(Problem::not_found("no such person")));
    };
    let d = c.store.show_person(&c.principal, id).await.map_err(fail)?;
    let candidates = c
        .store
        .link_candidates(&c.principal, Some(d.person.case_id), None)
        .await
        .map_err(fail)?
        .into_iter()
        .filter(|x| x.person_a.id == id || x.person_b.id == id)
        .collect();
    let links = c.store.exact_links(&c.principal, id).await.map_err(fail)?;
    let own: std::collections::HashSet<String> = d
        .identifiers
        .iter()
        .map(|i| format!("identifier:{}", i.id))
        .chain(std::iter::once(format!("person:{id}")))
        .collect();
    let alerts = c
        .store
        .alerts(&c.principal, false)
        .await
        .map_err(fail)?
        .into_iter()
        .filter(|a| own.contains(&a.own))
        .collect();
    Ok(render(&PersonPage {
        chrome: Chrome::new(&c, "cases"),
        d,
        candidates,
        links,
        alerts,
    }))
}

#[derive(Deserialize)]
struct NoteForm {
    body: String,
}

async fn add_note(id: Option<Path<i64>>, f: CsrfForm<NoteForm>) -> PageResult {
    let Some(Path(id)) = id else {
        return Err(fail(Problem::not_found("no such person")));
    };
    let c = &f.caller;
    // The person's case comes from the authorised read, never from the form.
    let d = c.store.show_person(&c.principal, id).await.map_err(fail)?;
    c.store
        .add_note(
            &c.principal,
            d.person.case_id,
            Some(id),
            &f.form.body,
            "web",
        )
        .await
        .map_err(fail)?;
    Ok(Redirect::to(&format!("/persons/{id}#notes")).into_response())
}

#[derive(Deserialize)]
struct DecisionForm {
    note: Option<String>,
}

/// Accepts or rejects a candidate link from the person page.
async fn decide(path: Option<Path<(i64, i64, String)>>, f: CsrfForm<DecisionForm>) -> PageResult {
    let Some(Path((id, cid, decision))) = path else {
        return Err(fail(Problem::not_found("no such candidate")));
    };
    let c = &f.caller;
    let note = f
        .form
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    let back = match decision.as_str() {
        "accept" => {
            let m = c
                .store
                .accept_candidate(&c.principal, cid, note)
                .await
                .map_err(fail)?;
            // The page's person may have been merged away: go to the kept one.
            format!("/persons/{}#links", m.kept)
        }
        "reject" => {
            c.store
                .reject_candidate(&c.principal, cid, note)
                .await
                .map_err(fail)?;
            format!("/persons/{id}#links")
        }
        _ => return Err(fail(Problem::not_found("no such decision"))),
    };
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
struct Empty {}

/// Undoes the latest merge of this person.
async fn unmerge(id: Option<Path<i64>>, f: CsrfForm<Empty>) -> PageResult {
    let Some(Path(id)) = id else {
        return Err(fail(Problem::not_found("no such person")));
    };
    let c = &f.caller;
    c.store
        .unmerge_person(&c.principal, id)
        .await
        .map_err(fail)?;
    Ok(Redirect::to(&format!("/persons/{id}")).into_response())
}
