// Every open permission request across workspaces, oldest first, with its age: answer it here,
// or open its chat. Answering anywhere (here, the chat, a notification, the tray, the CLI)
// takes it off this list everywhere.
import { useState } from "react";
import { chatAnswer, attentionSetDnd } from "../../shared/ipc";
import { useWorkspaces } from "../../shared/queries";
import { Button, CheckIcon, EmptyState, ErrorAlert } from "../../shared/ui";
import { formatAge, openTarget, useAttentionStore, type QueueItem } from "./attention";
import "./attention.css";

export function NeedsYouView() {
  const snapshot = useAttentionStore((state) => state.snapshot);
  const receivedAt = useAttentionStore((state) => state.receivedAt);
  const workspaces = useWorkspaces();
  const names = new Map((workspaces.data ?? []).map((workspace) => [workspace.id, workspace.spec.name]));
  const [dndError, setDndError] = useState<Error | null>(null);
  const items = snapshot?.items ?? [];

  async function toggleDnd(on: boolean) {
    setDndError(null);
    try {
      await attentionSetDnd(on);
    } catch (error) {
      setDndError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  return (
    <section className="view" aria-labelledby="needs-you-heading" data-testid="needs-you-view">
      <header className="view__header needs-you__header">
        <h1 id="needs-you-heading" className="view__title">
          Needs you
        </h1>
        <label className="needs-you__dnd">
          <input
            type="checkbox"
            data-testid="dnd-toggle"
            checked={snapshot?.doNotDisturb ?? false}
            disabled={snapshot === null}
            onChange={(event) => void toggleDnd(event.target.checked)}
          />
          Do not disturb
        </label>
      </header>
      <div className="view__body">
        {dndError !== null ? <ErrorAlert error={dndError} context="Could not change do-not-disturb" compact /> : null}
        {snapshot?.doNotDisturb ? (
          <p className="muted small" role="status">
            Notifications are paused. Requests still wait here and in the tray.
          </p>
        ) : null}
        {snapshot === null ? (
          <p className="muted" role="status">
            Loading…
          </p>
        ) : items.length === 0 ? (
          <EmptyState icon={<CheckIcon />} title="Nothing waits for you" data-testid="needs-you-empty">
            When an agent asks for permission, it shows up here, in the tray and as a notification.
          </EmptyState>
        ) : (
          <ul className="needs-you__list" aria-label="Open requests">
            {items.map((item) => (
              <NeedsYouRow
                key={`${item.request.sessionId}:${item.request.request}`}
                item={item}
                workspaceName={names.get(item.request.workspaceId) ?? "A workspace"}
                ageMs={(item.ageMs ?? 0) + (Date.now() - receivedAt)}
              />
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}

function NeedsYouRow({ item, workspaceName, ageMs }: { item: QueueItem; workspaceName: string; ageMs: number }) {
  const { request } = item;
  const [answering, setAnswering] = useState<string | null>(null);
  const [error, setError] = useState<Error | null>(null);

  async function answer(optionId: string) {
    setAnswering(optionId);
    setError(null);
    try {
      await chatAnswer(request.sessionId, request.request, optionId);
    } catch (caught) {
      setAnswering(null);
      setError(caught instanceof Error ? caught : new Error(String(caught)));
    }
  }

  return (
    <li className="card needs-you__item" data-testid="needs-you-item">
      <div className="needs-you__text">
        <p className="needs-you__title">{request.title}</p>
        <p className="muted small">
          {workspaceName} · asked {formatAge(ageMs)}
          {ageMs >= 60_000 ? " ago" : ""}
        </p>
      </div>
      <div className="needs-you__actions">
        {request.options.map((option) => (
          <Button
            key={option.optionId}
            variant={option.kind === "allow_once" ? "primary" : "secondary"}
            className={option.kind.startsWith("reject") ? "button--danger-text" : undefined}
            data-kind={option.kind}
            disabled={answering !== null}
            onClick={() => void answer(option.optionId)}
          >
            {option.name}
          </Button>
        ))}
        <Button
          variant="ghost"
          onClick={() => openTarget({ kind: "session", sessionId: request.sessionId, seq: request.seq, request: request.request })}
        >
          Open chat
        </Button>
      </div>
      {error !== null ? <ErrorAlert error={error} context="The answer did not reach the agent" compact /> : null}
    </li>
  );
}
