// The changes panel beside the chat: what the agent changed in the workspace's checkout
// (against its base), file by file, with a syntax-highlighted diff, "open in editor" on every
// hunk, comments on lines that go to the agent as a prompt, and shipping (commit, push a
// `sam/…` branch, open a pull request).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useVirtualizer } from "@tanstack/react-virtual";
import { createElement, useMemo, useRef, useState, type ReactNode } from "react";
import { languageForPath, lowlight, type HastNode } from "../../shared/highlight";
import { Button, Dialog, EmptyState, ErrorAlert } from "../../shared/ui";
import "./changes.css";
import { commentPrompt, diffRows, type DiffRow } from "./parse";
import { ShipDialog } from "./ShipDialog";
import { useLiveChanges } from "./useLiveChanges";
import type { ChangedFile, ChangesApi, TurnReverted } from "./types";

/**
 * How often the list is read again while the panel is open, when the workspace's host cannot
 * tell when the checkout changes (the agent may be editing).
 */
const REFRESH_MS = 3000;
/** Lines longer than this are shown plain (highlighting them would stall scrolling). */
const HIGHLIGHT_MAX = 2000;

type ChangesPanelProps = {
  api: ChangesApi;
  workspaceId: string;
  /** The commit message to start from (the chat's title). */
  draftMessage: string;
  onOpenFile: (path: string, line: number | null) => void;
  /** Sends a prompt to the agent of the open chat; null when there is none. */
  onSendPrompt: ((text: string) => Promise<void>) | null;
  onClose: () => void;
  /** The open chat's session, for the "Turn" filter; absent or null without one. */
  sessionId?: string | null;
  /** The open chat's finished turns (prompt numbers), oldest first. */
  turns?: readonly number[];
};

const STATUS_LABEL: Record<ChangedFile["status"], string> = {
  added: "A",
  modified: "M",
  deleted: "D",
  renamed: "R",
  untracked: "U",
  copied: "C",
  type_changed: "T",
};

export function ChangesPanel({ api, workspaceId, draftMessage, onOpenFile, onSendPrompt, onClose, sessionId = null, turns = [] }: ChangesPanelProps) {
  const queryClient = useQueryClient();
  const [turnChoice, setTurnChoice] = useState<number | null>(null);
  // A turn of another chat (the chat changed) falls back to all changes.
  const turn = sessionId !== null && turnChoice !== null && turns.includes(turnChoice) ? turnChoice : null;
  const live = useLiveChanges(api, workspaceId);
  const all = useQuery({
    queryKey: ["changes", workspaceId],
    queryFn: () => api.changes(workspaceId),
    refetchInterval: live ? false : REFRESH_MS,
    enabled: turn === null,
  });
  const ofTurn = useQuery({
    queryKey: ["changes", workspaceId, "turn", sessionId, turn],
    queryFn: () => api.turnChanges(workspaceId, sessionId!, turn!),
    enabled: turn !== null,
  });
  const changes = turn === null ? all : ofTurn;
  const [selected, setSelected] = useState<string | null>(null);
  const [shipping, setShipping] = useState(false);
  const [reverting, setReverting] = useState(false);
  const [reverted, setReverted] = useState<TurnReverted | null>(null);
  const files = changes.data?.files ?? [];
  const current = files.find((file) => file.path === selected) ?? files[0] ?? null;

  return (
    <aside className="changes" aria-labelledby="changes-heading" data-testid="changes-panel" data-live={live}>
      <header className="changes__header">
        <h2 id="changes-heading" className="changes__title">
          Changes
        </h2>
        {changes.data ? (
          <span className="muted small" data-testid="changes-summary">
            {files.length} {files.length === 1 ? "file" : "files"} · <span className="changes__added">+{changes.data.insertions}</span>{" "}
            <span className="changes__removed">−{changes.data.deletions}</span>
          </span>
        ) : null}
        <span className="changes__spacer" />
        <Button variant="primary" className="button--small" disabled={files.length === 0} onClick={() => setShipping(true)} data-testid="changes-ship">
          Ship…
        </Button>
        <Button variant="ghost" className="button--small" onClick={onClose} aria-label="Close the changes">
          ✕
        </Button>
      </header>
      {sessionId !== null && turns.length > 0 ? (
        <div className="changes__turn" data-testid="changes-turn-filter">
          <label className="field__label" htmlFor="changes-turn">
            Turn
          </label>
          <select
            id="changes-turn"
            className="select select--small"
            value={turn === null ? "" : String(turn)}
            onChange={(event) => {
              setTurnChoice(event.target.value === "" ? null : Number(event.target.value));
              setSelected(null);
              setReverted(null);
            }}
            data-testid="changes-turn"
          >
            <option value="">All changes</option>
            {turns.map((prompt) => (
              <option key={prompt} value={String(prompt)}>
                Turn {prompt}
              </option>
            ))}
          </select>
          {turn !== null ? (
            <Button className="button--small" disabled={files.length === 0} onClick={() => setReverting(true)} data-testid="changes-revert-turn">
              Revert this turn…
            </Button>
          ) : null}
        </div>
      ) : null}
      {reverted ? (
        <p className="muted small" role="status" data-testid="changes-reverted">
          Turn {reverted.prompt} reverted: {reverted.restored.length} {reverted.restored.length === 1 ? "file" : "files"} put back.
        </p>
      ) : null}
      {changes.isError ? <ErrorAlert error={changes.error} context="Could not read the changes" compact /> : null}
      {changes.isPending ? (
        <p className="muted small" role="status">
          Reading the changes…
        </p>
      ) : files.length === 0 && changes.isSuccess ? (
        turn === null ? (
          <EmptyState title="No changes yet" compact data-testid="changes-empty">
            The agent's edits to the workspace show up here.
          </EmptyState>
        ) : (
          <EmptyState title={`Turn ${turn} changed no files`} compact data-testid="changes-empty">
            Pick another turn, or all changes.
          </EmptyState>
        )
      ) : (
        <div className="changes__body">
          <ul className="changes__files" aria-label="Changed files">
            {files.map((file) => (
              <li key={file.path}>
                <button
                  type="button"
                  className="changes__file"
                  aria-current={current?.path === file.path ? "true" : undefined}
                  data-testid="changes-file"
                  data-path={file.path}
                  title={file.oldPath ? `${file.oldPath} → ${file.path}` : file.path}
                  onClick={() => setSelected(file.path)}
                >
                  <span className={`changes__status changes__status--${file.status}`} title={file.status}>
                    {STATUS_LABEL[file.status]}
                  </span>
                  <span className="changes__path">{file.oldPath ? `${file.oldPath} → ${file.path}` : file.path}</span>
                  {file.binary ? (
                    <span className="muted small">binary</span>
                  ) : (
                    <span className="small">
                      <span className="changes__added">+{file.insertions ?? 0}</span> <span className="changes__removed">−{file.deletions ?? 0}</span>
                    </span>
                  )}
                </button>
              </li>
            ))}
          </ul>
          {turn !== null ? <p className="muted small">The diff below is the file's whole change against the base.</p> : null}
          {changes.data?.truncated ? <p className="muted small">Only the first {files.length} changed files are listed.</p> : null}
          {current ? (
            <FileDiffView
              key={`${turn ?? "all"}:${current.path}`}
              api={api}
              workspaceId={workspaceId}
              file={current}
              turn={turn !== null && sessionId !== null ? { sessionId, prompt: turn } : null}
              onOpenFile={onOpenFile}
              onSendPrompt={onSendPrompt}
            />
          ) : null}
        </div>
      )}
      {reverting && turn !== null && sessionId !== null ? (
        <RevertTurnDialog
          api={api}
          workspaceId={workspaceId}
          sessionId={sessionId}
          prompt={turn}
          files={files}
          onClose={() => setReverting(false)}
          onReverted={(done) => {
            setReverting(false);
            setReverted(done);
            void queryClient.invalidateQueries({ queryKey: ["changes", workspaceId] });
          }}
        />
      ) : null}
      {shipping ? <ShipDialog api={api} workspaceId={workspaceId} draftMessage={draftMessage} sessionId={sessionId} files={all.data?.files ?? []} onClose={() => setShipping(false)} /> : null}
    </aside>
  );
}

/** Confirms reverting a turn; shows the refusal (files changed since) when there is one. */
function RevertTurnDialog({
  api,
  workspaceId,
  sessionId,
  prompt,
  files,
  onClose,
  onReverted,
}: {
  api: ChangesApi;
  workspaceId: string;
  sessionId: string;
  prompt: number;
  files: ChangedFile[];
  onClose: () => void;
  onReverted: (reverted: TurnReverted) => void;
}) {
  const revert = useMutation({
    mutationFn: () => api.revertTurn(workspaceId, sessionId, prompt),
    onSuccess: onReverted,
  });
  return (
    <Dialog
      title={`Revert turn ${prompt}?`}
      role="alertdialog"
      onClose={() => {
        if (!revert.isPending) onClose();
      }}
      data-testid="revert-turn-dialog"
      actions={
        <>
          <Button onClick={onClose} disabled={revert.isPending}>
            Cancel
          </Button>
          <Button variant="primary" disabled={revert.isPending} onClick={() => revert.mutate()} data-testid="revert-turn-confirm">
            {revert.isPending ? "Reverting…" : `Revert turn ${prompt}`}
          </Button>
        </>
      }
    >
      <p>
        {files.length === 1 ? "This file goes" : `These ${files.length} files go`} back to how {files.length === 1 ? "it was" : "they were"} before turn {prompt}
        ; files it created are deleted. Nothing is reverted if any of them has changed since the turn ended.
      </p>
      <ul className="changes__revert-list">
        {files.map((file) => (
          <li key={file.path}>
            <code className="path">{file.path}</code>
          </li>
        ))}
      </ul>
      {revert.isError ? <ErrorAlert error={revert.error} context="The turn was not reverted" compact /> : null}
    </Dialog>
  );
}

function FileDiffView({
  api,
  workspaceId,
  file,
  turn,
  onOpenFile,
  onSendPrompt,
}: {
  api: ChangesApi;
  workspaceId: string;
  file: ChangedFile;
  /** Show the file's diff in this turn only. */
  turn: { sessionId: string; prompt: number } | null;
  onOpenFile: (path: string, line: number | null) => void;
  onSendPrompt: ((text: string) => Promise<void>) | null;
}) {
  const diff = useQuery({
    queryKey: ["changes", workspaceId, "diff", file.path, file.insertions, file.deletions, turn?.sessionId ?? null, turn?.prompt ?? null],
    queryFn: () => api.fileDiff(workspaceId, file.path, file.oldPath, turn),
  });
  const rows = useMemo(() => diffRows(diff.data?.diff ?? ""), [diff.data]);
  const language = languageForPath(file.path);
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => 20,
    overscan: 20,
    // Before the first measurement (and in tests without layout), assume a panel-sized view.
    initialRect: { width: 600, height: 600 },
  });
  const [selection, setSelection] = useState<{ from: number; to: number } | null>(null);
  const [comment, setComment] = useState("");
  const [sending, setSending] = useState(false);
  const [sendError, setSendError] = useState<Error | null>(null);

  function select(index: number, extend: boolean) {
    setSelection((current) => (extend && current ? { from: Math.min(current.from, index), to: Math.max(current.to, index) } : { from: index, to: index }));
  }

  async function send() {
    if (!selection || !onSendPrompt) return;
    setSending(true);
    setSendError(null);
    try {
      await onSendPrompt(commentPrompt(file.path, rows.slice(selection.from, selection.to + 1), comment));
      setComment("");
      setSelection(null);
    } catch (error) {
      setSendError(error instanceof Error ? error : new Error(String(error)));
    } finally {
      setSending(false);
    }
  }

  if (diff.isError) return <ErrorAlert error={diff.error} context={`Could not read the diff of ${file.path}`} compact />;
  if (diff.isPending)
    return (
      <p className="muted small" role="status">
        Reading the diff…
      </p>
    );
  if (diff.data.binary)
    return (
      <p className="muted small" data-testid="changes-binary">
        {file.path} is a binary file; its contents are not shown.
      </p>
    );
  return (
    <figure className="changes__diff" data-testid="changes-diff">
      <figcaption className="changes__diff-header">
        <code>{file.path}</code>
        <Button variant="ghost" className="button--small" onClick={() => onOpenFile(file.path, null)}>
          Open in editor
        </Button>
      </figcaption>
      {diff.data.truncated ? <p className="muted small">This diff is long; only its beginning is shown.</p> : null}
      <div ref={scrollRef} className="changes__diff-scroll" role="table" aria-label={`Changes to ${file.path}`}>
        <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
          {virtualizer.getVirtualItems().map((item) => {
            const row = rows[item.index]!;
            const selected = selection !== null && item.index >= selection.from && item.index <= selection.to;
            return (
              <div
                key={item.key}
                role="row"
                data-index={item.index}
                ref={virtualizer.measureElement}
                className={`changes__row changes__row--${row.kind}${selected ? " changes__row--selected" : ""}`}
                style={{ position: "absolute", top: 0, left: 0, right: 0, transform: `translateY(${item.start}px)` }}
              >
                {row.kind === "hunk" ? (
                  <>
                    <span className="changes__hunk">{row.text}</span>
                    <button type="button" className="chat-mini-button" onClick={() => onOpenFile(file.path, row.newStart)} data-testid="changes-open-hunk">
                      Open at line {row.newStart}
                    </button>
                  </>
                ) : row.kind === "note" ? (
                  <span className="muted small">{row.text}</span>
                ) : (
                  <>
                    <button
                      type="button"
                      className="changes__line-number"
                      aria-label={row.newLine === null ? `Select removed line ${row.oldLine}` : `Select line ${row.newLine}`}
                      onClick={(event) => select(item.index, event.shiftKey)}
                    >
                      <span>{row.oldLine ?? ""}</span>
                      <span>{row.newLine ?? ""}</span>
                    </button>
                    <code className="changes__code">
                      <span className="changes__sign">{row.kind === "add" ? "+" : row.kind === "del" ? "−" : " "}</span>
                      {highlighted(row.text, language)}
                    </code>
                  </>
                )}
              </div>
            );
          })}
        </div>
      </div>
      {selection !== null && onSendPrompt ? (
        <div className="changes__comment" data-testid="changes-comment">
          <label className="field__label" htmlFor="changes-comment-text">
            Comment to the agent on {selection.to - selection.from + 1} {selection.to === selection.from ? "line" : "lines"}
          </label>
          <textarea
            id="changes-comment-text"
            className="input"
            rows={3}
            value={comment}
            onChange={(event) => setComment(event.target.value)}
            placeholder="What should change here?"
          />
          <div className="changes__comment-actions">
            <Button onClick={() => setSelection(null)}>Cancel</Button>
            <Button variant="primary" disabled={sending || comment.trim() === ""} onClick={() => void send()}>
              {sending ? "Sending…" : "Send to the agent"}
            </Button>
          </div>
          {sendError ? <ErrorAlert error={sendError} context="The comment did not reach the agent" compact /> : null}
        </div>
      ) : null}
    </figure>
  );
}

/** One line, highlighted (hast from lowlight to React elements; no HTML strings). */
function highlighted(text: string, language: string | null): ReactNode {
  if (!language || text.length > HIGHLIGHT_MAX) return text;
  return lowlight.highlight(language, text).children.map((node, index) => toReact(node as HastNode, index));
}

function toReact(node: HastNode, key: number): ReactNode {
  if (node.type === "text") return node.value ?? "";
  if (node.type !== "element") return null;
  const className = Array.isArray(node.properties?.className) ? (node.properties.className as string[]).join(" ") : undefined;
  return createElement("span", { key, className }, ...(node.children ?? []).map((child, index) => toReact(child, index)));
}
