import { IconButtonPlus } from "./parts";
import { sessionStateInfo } from "./format";
import type { ChatSession, SessionState } from "./types";

type SessionListProps = {
  sessions: ChatSession[] | undefined;
  loading: boolean;
  error: Error | null;
  openSessionId: string | null;
  /** The open session's state as its events tell (fresher than the list). */
  liveState: SessionState | null;
  /** Group by workspace (when listing every workspace's chats). */
  grouped: boolean;
  /** Agent id → name, where known. */
  agentNames?: Record<string, string>;
  onOpen: (sessionId: string) => void;
  /** Null when no workspace is selected: no new chat then. */
  onNew: (() => void) | null;
};

export function StateBadge({ state }: { state: string }) {
  const info = sessionStateInfo(state);
  return (
    <span className={`chat-badge chat-badge--${info.tone}`} data-state={state} data-testid="chat-state-badge">
      {info.tone === "busy" ? <span className="dot dot--busy" aria-hidden="true" /> : null}
      {info.label}
    </span>
  );
}

function SessionButton({ session, open, state, agentName, onOpen }: { session: ChatSession; open: boolean; state: string; agentName: string; onOpen: () => void }) {
  return (
    <li>
      <button type="button" className="chat-sessions__item" aria-current={open ? "page" : undefined} onClick={onOpen} data-testid="chat-session" data-id={session.id}>
        <span className="chat-sessions__title">{session.title || "Untitled chat"}</span>
        <span className="chat-sessions__meta">
          <span>{agentName}</span>
          <StateBadge state={state} />
        </span>
      </button>
    </li>
  );
}

/** The chats, newest first, each with what it is doing. */
export function SessionList({ sessions, loading, error, openSessionId, liveState, grouped, agentNames = {}, onOpen, onNew }: SessionListProps) {
  const stateOf = (session: ChatSession) => (session.id === openSessionId && liveState !== null ? liveState : session.state);
  const groups = new Map<string, ChatSession[]>();
  for (const session of sessions ?? []) {
    const key = grouped ? session.workspace_name : "";
    groups.set(key, [...(groups.get(key) ?? []), session]);
  }
  return (
    <nav className="chat-sessions" aria-label="Chats">
      <div className="chat-sessions__head">
        <h2 className="sidebar__heading">Chats</h2>
        {onNew ? <IconButtonPlus label="New chat" onClick={onNew} /> : null}
      </div>
      {error ? (
        <p className="field__error small" role="alert">
          Could not load the chats: {error.message}
        </p>
      ) : loading ? (
        <p className="muted small">Loading…</p>
      ) : sessions?.length === 0 ? (
        <p className="muted small chat-sessions__empty">No chats yet.</p>
      ) : null}
      {[...groups].map(([workspace, list]) => (
        <div key={workspace} className="chat-sessions__group">
          {grouped ? <p className="chat-sessions__group-name">{workspace}</p> : null}
          <ul className="chat-sessions__list">
            {list.map((session) => (
              <SessionButton key={session.id} session={session} open={session.id === openSessionId} state={stateOf(session)} agentName={agentNames[session.agent] ?? session.agent} onOpen={() => onOpen(session.id)} />
            ))}
          </ul>
        </div>
      ))}
    </nav>
  );
}
