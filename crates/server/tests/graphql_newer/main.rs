//! The sync API as the newest apps (Insomnia 11–13) use it, beside the 10.x app, over real HTTP
//! on SQLite and PostgreSQL with real keys (insomnia-wire-newer.md §1.4, §1.5, §5, §6, §9):
//! `projects(allProjects: true)` with `teamProjectId`, branch names with `/`, a `data` object
//! in every answer, errors included, deleting a remote file by the id the list gave, and
//! `GET /v1/user/files`. The operations are sent with the text the app sends (Kong/insomnia
//! `packages/insomnia-vcs/src/vcs.ts` and `backend-projects.ts`, commit 0d6c3cf4).
#![allow(clippy::unwrap_used, reason = "tests may panic")]

#[path = "../common/mod.rs"]
mod common;
mod files;
mod projects;
mod refusals;

use common::app::TestApp;
use common::vcs::*;
use hypnos_crypto::{
    aes::AesKey,
    sync::{EMPTY_HASH, blob_content, blob_id, open_blob, seal_blob},
};
use hypnos_server::storage::Role;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
