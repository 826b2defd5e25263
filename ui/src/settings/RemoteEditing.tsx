// Settings → Editor → Remote editing: open a cloud workspace's files on the workspace itself
// (VS Code and Cursor Remote-SSH, Zed), instead of a read-only copy. Turning it on adds one
// line to the user's ssh config, shown here before they agree; the workspace key goes to their
// ssh-agent, never to a file.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { remoteEditingGet, remoteEditingSet } from "../shared/ipc";
import { ErrorAlert } from "../shared/ui";

const KEY = ["remote-editing"] as const;

export function RemoteEditing() {
  const client = useQueryClient();
  const status = useQuery({ queryKey: KEY, queryFn: () => remoteEditingGet() });
  const save = useMutation({
    mutationFn: (on: boolean) => remoteEditingSet(on),
    onSuccess: (saved) => client.setQueryData(KEY, saved),
  });
  const data = status.data;

  return (
    <div className="field" data-testid="remote-editing">
      <label className="checkbox">
        <input
          type="checkbox"
          data-testid="remote-editing-toggle"
          checked={data?.enabled ?? false}
          disabled={!data || save.isPending}
          onChange={(event) => save.mutate(event.target.checked)}
          aria-describedby="remote-editing-hint"
        />
        Edit cloud workspaces' files on the workspace itself
      </label>
      <div id="remote-editing-hint" className="muted small">
        <p>
          With VS Code, Cursor or Zed, a file from a cloud workspace opens over SSH in the editor's remote mode instead of as a
          read-only copy.
          {data ? (
            <>
              {" "}
              Turning this on adds one line at the top of <code className="path">{data.userConfig}</code>:{" "}
              <code className="path" data-testid="remote-editing-line">
                {data.includeLine}
              </code>
              . Turning it off removes exactly that line.
            </>
          ) : null}
        </p>
        <p>SAM lends the workspace key to your ssh-agent for a few hours when it opens a file; the key is never written to disk.</p>
        {data && !data.agentAvailable ? (
          <p role="status" data-testid="remote-editing-no-agent">
            No ssh-agent runs in this session, so files will still open as copies. Start SAM Desktop from a session with an ssh-agent.
          </p>
        ) : null}
      </div>
      {status.isError ? <ErrorAlert error={status.error} context="Could not read the ssh config" compact /> : null}
      {save.isError ? <ErrorAlert error={save.error} context="Could not change the ssh config" compact /> : null}
    </div>
  );
}
