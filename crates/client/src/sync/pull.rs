//! `hypnos pull`: a project's branch into an export file, merged into the file's own
//! workspace if it holds one.

use super::{
    Pulled, SyncError, Syncer, Target,
    export::{self, Export, Workspace},
    identity_of,
    merge::Prefer,
    write_export,
};

impl Syncer<'_> {
    /// Pulls a project's branch into the export at `path`: a new file, or the workspace merged
    /// into the file's own (three ways, from the snapshot this machine synced last).
    pub async fn pull(
        &self,
        org: &str,
        target: Target<'_>,
        branch: &str,
        path: &std::path::Path,
        format: Option<export::Format>,
        prefer: Option<Prefer>,
    ) -> Result<Pulled, SyncError> {
        let project = match target {
            Target::Project(id) => self.remote.project(id).await?,
            Target::Workspace(id) => self.remote.project_of_workspace(Some(org), id).await?,
        }
        .ok_or_else(|| {
            SyncError::Invalid(
                "no such project in this organization (hypnos status FILE or the app shows the \
                 ids)"
                    .into(),
            )
        })?;
        let mut file = match std::fs::read_to_string(path) {
            Ok(text) => Export::parse(&text).map_err(|err| {
                SyncError::Invalid(format!(
                    "{} exists and is not an export the pull can merge into ({err}); choose \
                     another -o FILE",
                    path.display()
                ))
            })?,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                Export::new(format.unwrap_or_else(|| export::Format::from_path(path)))
            }
            Err(err) => {
                return Err(SyncError::Io(format!(
                    "cannot read {}: {err}",
                    path.display()
                )));
            }
        };
        if let Some(format) = format {
            file.format = format;
        }
        // A file without the workspace deleted nothing: it takes the branch as it is.
        let present = file
            .workspaces()
            .into_iter()
            .find(|workspace| workspace.id == project.root_document_id);
        let fresh = present.is_none();
        let workspace = present.unwrap_or_else(|| Workspace {
            id: project.root_document_id.clone(),
            name: project.name.clone(),
            documents: Vec::new(),
        });
        let identity = identity_of(path)?;
        let plan = self
            .plan(
                &identity,
                &workspace,
                Some(project.clone()),
                branch,
                prefer,
                fresh,
            )
            .await?;
        let Some(tip) = plan.remote_tip.clone() else {
            return Err(SyncError::Invalid(format!(
                "branch {branch} of {} has no snapshots yet",
                project.id
            )));
        };
        if prefer.is_none() && !plan.conflicts.is_empty() {
            return Err(SyncError::Conflicts {
                conflicts: vec![(plan.workspace_id.clone(), plan.conflicts.clone())],
            });
        }
        let key = self.remote.project_key(&project.id, &self.private).await?;
        self.check_key(org, &project, &key, &plan.remote_state)
            .await?;
        let documents = self.documents_of(&project.id, &key, &plan).await?;
        file.replace_workspace(&plan.workspace_id, &documents);
        write_export(path, &file)?;
        // The written file's own identity (it may not have existed before).
        let identity = identity_of(path)?;
        self.record(&identity, &project.id, branch, &tip, plan.history_len)?;
        Ok(Pulled {
            id: project.id,
            workspace_id: plan.workspace_id,
            name: plan.name,
            branch: branch.to_owned(),
            snapshot: tip,
            documents: documents.len(),
            incoming: plan.incoming,
            outgoing: plan.outgoing,
            conflicts: plan.conflicts,
        })
    }
}
