import type { Workspace } from "../shared/ipc";
import { modifierLabel } from "../shared/platform";
import { isWorkspaceBusy, useWorkspaces } from "../shared/queries";
import { useUiStore } from "../shared/store";
import { Button, CloudIcon, EmptyState, ErrorAlert, FolderIcon, PlusIcon } from "../shared/ui";
import { NewWorkspaceDialog } from "./NewWorkspaceDialog";
import { OrphansBanner, OrphansDialog } from "./Orphans";
import { PROVIDER_LABEL, STATE } from "./format";

export function WorkspaceList() {
  const workspaces = useWorkspaces();
  const view = useUiStore((state) => state.view);
  const selectedId = useUiStore((state) => state.workspaceId);
  const openWorkspace = useUiStore((state) => state.openWorkspace);
  const dialogOpen = useUiStore((state) => state.newWorkspaceOpen);
  const setDialogOpen = useUiStore((state) => state.setNewWorkspaceOpen);
  const shortcut = `${modifierLabel()}+N`;

  function onCreated(workspace: Workspace) {
    setDialogOpen(false);
    openWorkspace(workspace.id);
  }

  return (
    <section className="sidebar__section workspaces" aria-labelledby="workspaces-heading">
      <div className="sidebar__heading-row">
        <h2 id="workspaces-heading" className="sidebar__heading">
          Workspaces
        </h2>
        <button
          type="button"
          className="icon-button"
          data-testid="new-workspace"
          aria-label="New workspace"
          title={`New workspace (${shortcut})`}
          aria-keyshortcuts={shortcut.replace("⌘", "Meta").replace("Ctrl", "Control")}
          onClick={() => setDialogOpen(true)}
        >
          <PlusIcon />
        </button>
      </div>
      <OrphansBanner />
      <OrphansDialog />
      {workspaces.isPending ? (
        <p className="muted small" role="status">
          Loading workspaces…
        </p>
      ) : workspaces.isError ? (
        <ErrorAlert error={workspaces.error} context="Could not load workspaces" compact />
      ) : workspaces.data.length === 0 ? (
        <WorkspacesEmpty onUseLocal={() => setDialogOpen(true)} />
      ) : (
        <ul className="workspaces__list">
          {workspaces.data.map((workspace) => {
            const current = view === "workspace" && selectedId === workspace.id;
            const state = STATE[workspace.state];
            return (
              <li key={workspace.id}>
                <button
                  type="button"
                  className={`workspaces__item workspaces__item--${workspace.state}`}
                  data-testid="workspace-item"
                  data-name={workspace.spec.name}
                  data-state={workspace.state}
                  aria-current={current ? "page" : undefined}
                  aria-label={`${workspace.spec.name}, ${PROVIDER_LABEL[workspace.spec.provider]}, ${state.label}`}
                  onClick={() => openWorkspace(workspace.id)}
                >
                  <span className="workspaces__icon" aria-hidden="true">
                    {workspace.spec.provider === "local" ? <FolderIcon /> : <CloudIcon />}
                  </span>
                  <span className="workspaces__text">
                    <span className="workspaces__name">{workspace.spec.name}</span>
                    <span className="workspaces__meta">
                      <span className={`dot dot--${state.tone}${isWorkspaceBusy(workspace.state) ? " dot--busy" : ""}`} aria-hidden="true" />
                      <span data-testid="workspace-item-state">{state.label}</span>
                    </span>
                  </span>
                </button>
              </li>
            );
          })}
        </ul>
      )}
      {dialogOpen ? <NewWorkspaceDialog onClose={() => setDialogOpen(false)} onCreated={onCreated} /> : null}
    </section>
  );
}

function WorkspacesEmpty({ onUseLocal }: { onUseLocal: () => void }) {
  const requestAddCredential = useUiStore((state) => state.requestAddCredential);
  return (
    <EmptyState
      compact
      title="No workspaces yet"
      data-testid="workspaces-empty"
      actions={
        <>
          <Button variant="secondary" data-testid="workspaces-use-local" onClick={onUseLocal}>
            <FolderIcon /> Use this computer
          </Button>
          <Button variant="secondary" data-testid="workspaces-add-cloud" onClick={() => requestAddCredential("hetzner_token")}>
            <CloudIcon /> Add a cloud account
          </Button>
        </>
      }
    >
      <p>
        A workspace is where an agent works: a <strong>folder on this computer</strong> (the default, no account or
        keys needed) or a <strong>VM on your own Hetzner or Scaleway cloud</strong>.
      </p>
    </EmptyState>
  );
}
