import type { WorkspaceSummary } from "../shared/ipc";
import { useWorkspaces } from "../shared/queries";
import { useUiStore } from "../shared/store";
import { Button, CloudIcon, EmptyState, ErrorAlert, FolderIcon } from "../shared/ui";

const KIND_LABEL: Record<WorkspaceSummary["kind"], string> = {
  local: "Folder on this computer",
  remote: "VM in your cloud",
};

export function WorkspaceList() {
  const workspaces = useWorkspaces();

  return (
    <section className="sidebar__section workspaces" aria-labelledby="workspaces-heading">
      <h2 id="workspaces-heading" className="sidebar__heading">
        Workspaces
      </h2>
      {workspaces.isPending ? (
        <p className="muted small" role="status">
          Loading workspaces…
        </p>
      ) : workspaces.isError ? (
        <ErrorAlert error={workspaces.error} context="Could not load workspaces" compact />
      ) : workspaces.data.length === 0 ? (
        <WorkspacesEmpty />
      ) : (
        <ul className="workspaces__list">
          {workspaces.data.map((workspace) => (
            <li key={workspace.id} className="workspaces__item">
              <span className="workspaces__icon" aria-hidden="true">
                {workspace.kind === "local" ? <FolderIcon /> : <CloudIcon />}
              </span>
              <span className="workspaces__text">
                <span className="workspaces__name">{workspace.name}</span>
                <span className="workspaces__meta">
                  <span className="sr-only">{KIND_LABEL[workspace.kind]}, </span>
                  {workspace.state}
                </span>
              </span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function WorkspacesEmpty() {
  return (
    <EmptyState compact title="No workspaces yet" data-testid="workspaces-empty" actions={<OnboardingActions />}>
      <p>
        A workspace is where an agent works: a <strong>folder on this computer</strong> (the default, no account or
        keys needed) or a <strong>VM on your own Hetzner or Scaleway cloud</strong>.
      </p>
      <p id="new-workspace-note">Creating workspaces arrives with the next release.</p>
    </EmptyState>
  );
}

function OnboardingActions() {
  const requestAddCredential = useUiStore((state) => state.requestAddCredential);
  return (
    <>
      <Button variant="secondary" data-testid="workspaces-add-cloud" onClick={() => requestAddCredential("hetzner_token")}>
        <CloudIcon /> Add a cloud account
      </Button>
      <Button
        variant="secondary"
        data-testid="workspaces-use-local"
        unavailable
        aria-describedby="new-workspace-note"
        title="Creating workspaces arrives with the next release"
      >
        <FolderIcon /> Use this computer
      </Button>
    </>
  );
}
