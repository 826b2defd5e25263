import { useUiStore } from "../shared/store";
import { useEffect, useRef, useState } from "react";
import type { Workspace } from "../shared/ipc";
import { isWorkspaceBusy, useRetryWorkspace, useWorkspace } from "../shared/queries";
import { Banner, Button, ErrorAlert } from "../shared/ui";
import { DeleteWorkspaceDialog } from "./DeleteWorkspaceDialog";
import { formatPrice, PROVIDER_LABEL, repoText, STATE } from "./format";
import { StepProgress } from "./StepProgress";
import { WorkspaceTools } from "./WorkspaceTools";

/** One workspace: where it is, how setting it up went (live while it runs), opening it in a
 * terminal or VS Code once ready, Retry and Delete. */
export function WorkspaceView({ id }: { id: string }) {
  const workspace = useWorkspace(id);
  const headingRef = useRef<HTMLHeadingElement>(null);
  const [confirming, setConfirming] = useState(false);
  const data = workspace.data;
  const setView = useUiStore((state) => state.setView);
  // The tray's "Delete workspace…" opens this view with its confirmation.
  const confirmDeleteId = useUiStore((state) => state.confirmDeleteId);
  const setConfirmDeleteId = useUiStore((state) => state.setConfirmDeleteId);
  useEffect(() => {
    if (confirmDeleteId !== id || !data) return;
    setConfirmDeleteId(null);
    if (data.state !== "deleted" && data.state !== "stopping") setConfirming(true);
  }, [confirmDeleteId, id, data, setConfirmDeleteId]);

  return (
    <section className="view" aria-labelledby="workspace-heading" data-testid="workspace-view">
      <header className="view__header">
        <h1 id="workspace-heading" className="view__title" ref={headingRef} tabIndex={-1}>
          {data?.spec.name ?? "Workspace"}
        </h1>
        {data ? (
          <div className="view__header-actions">
            <p className="view__hint muted small">Press Escape to go back to the chat.</p>
            <span role="status" className={`status-tag status-tag--${STATE[data.state].tone}`} data-testid="workspace-state">
              {STATE[data.state].label}
            </span>
            {data.state === "ready" ? (
              <Button variant="primary" data-testid="workspace-chat" onClick={() => setView("chat")}>
                Chat
              </Button>
            ) : null}
            {data.state === "deleted" || data.state === "stopping" ? null : (
              <Button variant="ghost" className="button--danger-text" data-testid="workspace-delete" onClick={() => setConfirming(true)}>
                Delete
              </Button>
            )}
          </div>
        ) : null}
      </header>
      <div className="view__body workspace">
        {workspace.isError ? (
          <ErrorAlert error={workspace.error} context="Could not load the workspace" />
        ) : !data ? (
          <p className="muted" role="status">
            Loading workspace…
          </p>
        ) : (
          <WorkspaceDetails workspace={data} />
        )}
        {confirming && data ? (
          <DeleteWorkspaceDialog
            workspace={data}
            onCancel={() => setConfirming(false)}
            onDeleted={() => setConfirming(false)}
            fallbackFocus={() => headingRef.current}
          />
        ) : null}
      </div>
    </section>
  );
}

function WorkspaceDetails({ workspace }: { workspace: Workspace }) {
  const retry = useRetryWorkspace();
  const { spec } = workspace;
  const setupFailed = workspace.steps.some((step) => step.state === "failed");

  return (
    <>
      {workspace.state === "failed" ? (
        <Banner tone="error" title={setupFailed ? "Setting it up failed" : "It needs attention"} data-testid="workspace-failure">
          <p data-testid="workspace-failure-reason">{workspace.failure ?? "SAM recorded no reason."}</p>
          <div className="inline-row inline-row--tight">
            <Button
              variant="primary"
              className="button--small"
              data-testid="workspace-retry"
              disabled={retry.isPending}
              onClick={() => retry.mutate(workspace.id)}
            >
              {retry.isPending ? "Retrying…" : "Retry"}
            </Button>
            <span className="muted small">
              Every step is safe to run again{spec.provider === "local" ? "." : "; a server is never created twice."}
            </span>
          </div>
          {retry.isError ? <ErrorAlert error={retry.error} context="Could not retry" compact /> : null}
        </Banner>
      ) : null}
      {workspace.state === "deleted" ? (
        <Banner tone="info" title="Deleted" data-testid="workspace-deleted">
          <p>
            {spec.provider === "local" ? "" : "Its server was deleted. "}Its chat history stays on this computer.
          </p>
        </Banner>
      ) : null}

      {workspace.state === "ready" ? <WorkspaceTools workspace={workspace} /> : null}

      <section className="card" aria-labelledby="workspace-setup-heading">
        <h2 id="workspace-setup-heading" className="card__title">
          {isWorkspaceBusy(workspace.state) ? "Setting up" : "Setup"}
        </h2>
        <StepProgress workspace={workspace} />
      </section>

      <section className="card" aria-labelledby="workspace-details-heading">
        <h2 id="workspace-details-heading" className="card__title">
          Details
        </h2>
        <dl className="details" data-testid="workspace-details">
          <dt>Runs on</dt>
          <dd>
            {PROVIDER_LABEL[spec.provider]}
            {spec.locations.length > 0 ? ` · ${spec.locations.join(", ")}` : ""}
            {spec.size ? ` · ${spec.size}` : ""}
          </dd>
          <dt>Code</dt>
          <dd>
            <code className="path">{repoText(spec.repo)}</code>
            {spec.branch ? <span className="muted"> on {spec.branch}</span> : null}
          </dd>
          {workspace.checkoutDir && workspace.state !== "deleted" ? (
            <>
              <dt>Checkout</dt>
              <dd>
                <code className="path" data-testid="workspace-checkout">
                  {workspace.checkoutDir}
                </code>
              </dd>
            </>
          ) : null}
          {workspace.address ? (
            <>
              <dt>Address</dt>
              <dd>
                <code className="path">{workspace.address}</code>
              </dd>
            </>
          ) : null}
          {workspace.cost ? (
            <>
              <dt>Cost</dt>
              <dd data-testid="workspace-cost">
                {formatPrice(workspace.cost.hourly, workspace.cost.currency, 4)}/h ·{" "}
                {formatPrice(workspace.cost.monthly, workspace.cost.currency, 2)}/month at most · about{" "}
                {formatPrice(workspace.cost.spent, workspace.cost.currency, 2)} so far
              </dd>
            </>
          ) : null}
          <dt>Created</dt>
          <dd>{workspace.createdAt === null ? "—" : new Date(workspace.createdAt * 1000).toLocaleString()}</dd>
        </dl>
      </section>
    </>
  );
}
