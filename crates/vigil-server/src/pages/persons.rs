//! The person page: identifiers, events timeline, notes; placeholders for
//! candidate links and alerts (filled by the linking features).

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
}

#[derive(Template)]
#[template(path = "person.html")]
struct PersonPage {
    chrome: Chrome,
    d: vigil_store::PersonDetail,
}

async fn show(c: WebCaller, id: Option<Path<i64>>) -> PageResult {
    let Some(Path(id)) = id else {
        return Err(fail(Problem::not_found("no such person")));
    };
    let d = c.store.show_person(&c.principal, id).await.map_err(fail)?;
    Ok(render(&PersonPage {
        chrome: Chrome::new(&c, "cases"),
        d,
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
