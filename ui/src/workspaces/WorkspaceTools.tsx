// "Open terminal" and "Open in VS Code" for a ready workspace. The core starts the user's own
// programs (by argv, never a shell): a terminal in a local checkout or running `ssh sam-<name>`
// for a cloud workspace, and VS Code on the folder (Remote-SSH for a cloud workspace, which needs
// remote editing on: this asks before turning it on).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { remoteEditingSet, workspaceOpenTerminal, workspaceOpenVscode, type Workspace, type WorkspaceLaunch } from "../shared/ipc";
import { Banner, Button, ErrorAlert } from "../shared/ui";

type NeedsRemoteEditing = Extract<WorkspaceLaunch, { kind: "needsRemoteEditing" }>;

export function WorkspaceTools({ workspace }: { workspace: Workspace }) {
  const client = useQueryClient();
  const [done, setDone] = useState<string | null>(null);
  const [asking, setAsking] = useState<NeedsRemoteEditing | null>(null);
  const settle = (launch: WorkspaceLaunch) => {
    if (launch.kind === "opened") {
      setDone(launch.message);
      setAsking(null);
    } else {
      setDone(null);
      setAsking(launch);
    }
  };
  const terminal = useMutation({ mutationFn: () => workspaceOpenTerminal(workspace.id), onSuccess: settle });
  const vscode = useMutation({ mutationFn: () => workspaceOpenVscode(workspace.id), onSuccess: settle });
  const enableAndOpen = useMutation({
    mutationFn: async () => {
      const status = await remoteEditingSet(true);
      client.setQueryData(["remote-editing"], status);
      return workspaceOpenVscode(workspace.id);
    },
    onSuccess: settle,
  });
  const busy = terminal.isPending || vscode.isPending || enableAndOpen.isPending;
  const failed = [terminal, vscode, enableAndOpen].find((m) => m.isError);
  const cloud = workspace.spec.provider !== "local";

  return (
    <section className="card" aria-labelledby="workspace-tools-heading" data-testid="workspace-tools">
      <h2 id="workspace-tools-heading" className="card__title">
        Open
      </h2>
      <div className="inline-row inline-row--tight">
        <Button
          data-testid="workspace-open-terminal"
          disabled={busy}
          onClick={() => {
            vscode.reset();
            enableAndOpen.reset();
            terminal.mutate();
          }}
        >
          {terminal.isPending ? "Opening…" : "Open terminal"}
        </Button>
        <Button
          data-testid="workspace-open-vscode"
          disabled={busy}
          onClick={() => {
            terminal.reset();
            enableAndOpen.reset();
            vscode.mutate();
          }}
        >
          {vscode.isPending ? "Opening…" : "Open in VS Code"}
        </Button>
      </div>
      <p className="muted small">
        {cloud
          ? `The terminal runs ssh sam-${workspace.spec.name} with SAM's own ssh config; VS Code connects through Remote-SSH.`
          : "The terminal starts in the workspace's folder; VS Code opens that folder."}
      </p>
      {done ? (
        <p role="status" className="muted small" data-testid="workspace-open-done">
          {done}
        </p>
      ) : null}
      {asking ? (
        <Banner tone="info" title="VS Code needs remote editing" data-testid="workspace-needs-remote-editing">
          <p>{asking.message}</p>
          <p>
            The line: <code className="path">{asking.includeLine}</code>
          </p>
          <p className="muted small">
            Or use Open terminal: it names SAM's ssh config itself (<code className="path">ssh -F …</code>) and needs no change to
            yours.
          </p>
          <div className="inline-row inline-row--tight">
            <Button
              variant="primary"
              className="button--small"
              data-testid="workspace-enable-remote-editing"
              disabled={busy}
              onClick={() => enableAndOpen.mutate()}
            >
              {enableAndOpen.isPending ? "Turning it on…" : "Turn on remote editing and open"}
            </Button>
            <Button variant="ghost" className="button--small" onClick={() => setAsking(null)}>
              Not now
            </Button>
          </div>
        </Banner>
      ) : null}
      {failed ? <ErrorAlert error={failed.error} context="Could not open it" compact /> : null}
    </section>
  );
}
