import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useMemo, useRef, useState } from "react";
import { useUiStore } from "../shared/store";
import { Button, ChatIcon, EmptyState, ErrorAlert, PlusIcon, SendIcon } from "../shared/ui";
import { useChatSession, type ChatApi } from "./api";
import "./chat.css";
import { ChatSearch } from "./ChatSearch";
import { Composer } from "./Composer";
import { PathLinksProvider } from "./paths/PathLinks";
import { sessionStateOf } from "./reducer";
import { SessionHeader } from "./SessionHeader";
import { SessionList } from "./SessionList";
import { draftKey, useChatStore } from "./store";
import { Transcript, type TranscriptActions } from "./Transcript";
import { WorkingIndicator } from "./WorkingIndicator";
import { ChangesPanel } from "../features/changes/ChangesPanel";

const AGENTS = ["Claude Code", "Codex", "Gemini CLI", "Mistral Vibe", "OpenCode"];

export type ChatViewProps = {
  /** The core. Without it the view shows its introduction (nothing to talk to yet). */
  api?: ChatApi;
  /** The selected workspace: its chats are listed and a new chat starts there. Null or absent: every workspace's chats. */
  workspaceId?: string | null;
  /** Opens this session whenever the prop changes (e.g. from a notification). */
  sessionId?: string | null;
  /** Told whenever the open session changes (new chat, fork, search result…). */
  onSessionChange?: (sessionId: string | null) => void;
};

export function ChatView({ api, ...props }: ChatViewProps = {}) {
  return api ? <LiveChat api={api} {...props} /> : <ChatIntroduction />;
}

const WORKING_REASON = "The agent is working — cancel or wait";

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function LiveChat({ api, workspaceId = null, sessionId, onSessionChange }: Omit<ChatViewProps, "api"> & { api: ChatApi }) {
  const queryClient = useQueryClient();
  const openSessionId = useChatStore((state) => state.openSessionId);
  const openSession = useChatStore((state) => state.openSession);
  const focus = useChatStore((state) => state.focus);
  const clearFocus = useChatStore((state) => state.clearFocus);
  const key = draftKey(openSessionId, workspaceId);
  const draft = useChatStore((state) => state.drafts[key] ?? "");
  const setDraft = useChatStore((state) => state.setDraft);
  const setActiveDraftKey = useChatStore((state) => state.setActiveDraftKey);
  const history = useChatStore((state) => state.history[key]);
  const pushHistory = useChatStore((state) => state.pushHistory);

  useEffect(() => {
    if (sessionId !== undefined) openSession(sessionId);
  }, [sessionId, openSession]);

  const notify = useRef(onSessionChange);
  notify.current = onSessionChange;
  const firstNotice = useRef(true);
  useEffect(() => {
    if (firstNotice.current) {
      firstNotice.current = false;
      return;
    }
    notify.current?.(openSessionId);
  }, [openSessionId]);

  useEffect(() => {
    setActiveDraftKey(key);
    return () => setActiveDraftKey(null);
  }, [key, setActiveDraftKey]);

  const sessions = useQuery({
    queryKey: ["chat", "sessions", workspaceId],
    queryFn: () => api.sessions(workspaceId),
    refetchInterval: 5000,
  });
  const listed = sessions.data?.find((session) => session.id === openSessionId);
  // A session from another workspace (a search result, a fork's origin): find it among all.
  const everyone = useQuery({
    queryKey: ["chat", "sessions", null],
    queryFn: () => api.sessions(null),
    enabled: openSessionId !== null && workspaceId !== null && sessions.isSuccess && listed === undefined,
  });
  const meta = listed ?? everyone.data?.find((session) => session.id === openSessionId);

  // Leaving a workspace leaves its chat (unless the caller opened that chat along with it).
  const metaWorkspace = useRef<string | null>(null);
  metaWorkspace.current = meta?.workspace_id ?? null;
  const previousWorkspace = useRef(workspaceId);
  useEffect(() => {
    if (previousWorkspace.current === workspaceId) return;
    previousWorkspace.current = workspaceId;
    const open = useChatStore.getState().openSessionId;
    if (workspaceId === null || open === null || open === sessionId || metaWorkspace.current === workspaceId) return;
    openSession(null);
  }, [workspaceId, sessionId, openSession]);

  const live = useChatSession(api, openSessionId, meta?.last_seq ?? null);
  const { state } = live;
  const liveState = openSessionId !== null && !live.loading && live.error === null ? sessionStateOf(state) : null;
  const workspaceOfChat = meta?.workspace_id ?? workspaceId;

  const newChat = openSessionId === null;
  const agents = useQuery({
    queryKey: ["chat", "agents", workspaceId],
    queryFn: () => api.agents(workspaceId!),
    enabled: workspaceId !== null,
  });
  const agentNames = useMemo(() => Object.fromEntries((agents.data ?? []).map((agent) => [agent.id, agent.name])), [agents.data]);
  const [agentChoice, setAgentChoice] = useState<string | null>(null);
  const chosenAgent =
    agents.data?.find((agent) => agent.id === agentChoice && agent.available)?.id ?? agents.data?.find((agent) => agent.available)?.id ?? null;

  const invalidateSessions = () => void queryClient.invalidateQueries({ queryKey: ["chat", "sessions"] });

  const send = useMutation({
    mutationFn: (request: { text: string; sessionId: string | null; workspaceId: string; agent: string | null }) =>
      api.send({ workspaceId: request.workspaceId, sessionId: request.sessionId, agent: request.agent, text: request.text }),
    onSuccess: ({ session_id }, request) => {
      pushHistory(session_id, request.text);
      if (session_id !== useChatStore.getState().openSessionId) openSession(session_id);
      invalidateSessions();
    },
  });

  function sendText(text: string, fromComposer: boolean) {
    if (workspaceOfChat === null) return;
    const request = { text, sessionId: openSessionId, workspaceId: workspaceOfChat, agent: openSessionId === null ? chosenAgent : null };
    const draftAt = key;
    if (fromComposer) {
      pushHistory(draftAt, text);
      setDraft(draftAt, "");
    }
    send.mutate(request, {
      onError: () => {
        // Give the text back rather than lose it.
        if (fromComposer && (useChatStore.getState().drafts[draftAt] ?? "") === "") setDraft(draftAt, text);
      },
    });
  }

  const [cancelling, setCancelling] = useState(false);
  useEffect(() => {
    if (!state.working) setCancelling(false);
  }, [state.working]);
  const cancel = useMutation({
    mutationFn: (id: string) => api.cancel(id),
    onMutate: () => setCancelling(true),
    onError: () => setCancelling(false),
  });

  const [actionError, setActionError] = useState<string | null>(null);
  const resetSend = send.reset;
  const resetCancel = cancel.reset;
  useEffect(() => {
    setActionError(null);
    resetSend();
    resetCancel();
  }, [openSessionId, resetSend, resetCancel]);

  // The rows get one stable object whose methods call the latest handlers.
  const handlers = useRef<TranscriptActions | null>(null);
  handlers.current = {
    openLocation: (path, line) => {
      if (workspaceOfChat !== null) api.openLocation(workspaceOfChat, path, line).catch((error: unknown) => setActionError(`Could not open ${path}: ${errorText(error)}`));
    },
    openLink: (url) => {
      api.openUrl?.(url).catch((error: unknown) => setActionError(`Could not open the link: ${errorText(error)}`));
    },
    answer: (request, optionId) => (openSessionId === null ? Promise.resolve() : api.answerPermission(openSessionId, request, optionId)),
    restart: async () => {
      if (openSessionId === null) return;
      const { session_id } = await api.restart(openSessionId);
      if (session_id !== openSessionId) openSession(session_id);
      invalidateSessions();
    },
    retry: (text) => sendText(text, false),
    fork: (seq, workspaceId = null) => {
      if (openSessionId === null) return;
      api.fork(openSessionId, seq, workspaceId).then(
        ({ session_id }) => {
          openSession(session_id);
          invalidateSessions();
        },
        (error: unknown) => setActionError(`Could not fork: ${errorText(error)}`),
      );
    },
  };
  const actions = useMemo<TranscriptActions>(
    () => ({
      openLocation: (path, line) => handlers.current!.openLocation(path, line),
      openLink: (url) => handlers.current!.openLink(url),
      answer: (request, optionId) => handlers.current!.answer(request, optionId),
      restart: () => handlers.current!.restart(),
      retry: (text) => handlers.current!.retry(text),
      fork: (seq, workspaceId) => handlers.current!.fork(seq, workspaceId),
      ...(api.changes?.pullRequestState ? { pullRequestState: api.changes.pullRequestState } : {}),
    }),
    [api.changes],
  );

  const gone = meta?.workspace_gone ?? false;
  // A chat whose workspace was deleted can go on in another one, with its history as context.
  const targets = useQuery({ queryKey: ["chat", "targets"], queryFn: () => api.workspaces!(), enabled: gone && api.workspaces !== undefined });
  const openRequestIndex = state.openPermissions.length > 0 ? state.permissionIndex.get(state.openPermissions[0]!) : undefined;
  const firstOpenRequest = openRequestIndex === undefined ? null : (state.items[openRequestIndex]?.seq ?? null);
  const blockedReason = state.working
    ? WORKING_REASON
    : gone
      ? "The workspace was deleted: this chat can be read and forked, not continued"
      : openSessionId !== null && live.loading
        ? "Loading the chat…"
        : null;
  const composerDisabled = workspaceOfChat === null;
  // The changes panel beside the chat (the workspace's working tree against its base).
  const [changesOpen, setChangesOpen] = useState(false);
  const changesApi = api.changes;
  const showChanges = changesOpen && changesApi !== undefined && workspaceOfChat !== null && !gone;

  return (
    <section className="view chat chat--live" aria-labelledby="chat-heading" data-testid="chat-view">
      <header className="view__header chat__header">
        <h1 id="chat-heading" className="view__title">
          Chat
        </h1>
        <ChatSearch api={api} onOpen={(id, seq) => openSession(id, seq)} />
        {changesApi && workspaceOfChat !== null && !gone ? (
          <Button
            variant={showChanges ? "secondary" : "ghost"}
            className="button--small"
            aria-pressed={showChanges}
            data-testid="chat-changes-toggle"
            onClick={() => setChangesOpen((open) => !open)}
          >
            Changes
          </Button>
        ) : null}
      </header>
      <div className={showChanges ? "chat__layout chat__layout--changes" : "chat__layout"}>
        <SessionList
          sessions={sessions.data}
          loading={sessions.isPending}
          error={sessions.isError ? sessions.error : null}
          openSessionId={openSessionId}
          liveState={liveState}
          grouped={workspaceId === null}
          agentNames={agentNames}
          onOpen={(id) => openSession(id)}
          onNew={workspaceId === null ? null : () => openSession(null)}
        />
        <div className="chat__main">
          {openSessionId !== null ? (
            <SessionHeader
              session={meta}
              title={state.title}
              agentName={state.agent?.name ?? null}
              state={liveState}
              usage={state.usage}
              onOpenSession={(id, seq) => openSession(id, seq)}
              targets={gone ? (targets.data ?? null) : null}
              onContinueIn={(target) => handlers.current!.fork(state.lastSeq, target)}
            />
          ) : null}
          {live.error ? (
            <div className="chat__alert">
              <ErrorAlert error={live.error} context="Could not load this chat" />
              <Button className="button--small" onClick={live.reload}>
                Try again
              </Button>
            </div>
          ) : null}
          {actionError ? (
            <p className="field__error chat__alert" role="alert">
              {actionError}
            </p>
          ) : null}
          {openSessionId !== null ? (
            // Paths in the transcript open in the user's editor (see paths/PathLinks).
            <PathLinksProvider api={api} workspaceId={workspaceOfChat} agentWorking={state.working}>
              <Transcript
                key={openSessionId}
                state={state}
                actions={actions}
                canRetry={!state.working && !gone && !send.isPending}
                canFork
                focusSeq={focus?.sessionId === openSessionId ? focus.seq : null}
                onFocused={clearFocus}
              />
            </PathLinksProvider>
          ) : (
            <div className="chat__body">
              <EmptyState
                icon={<ChatIcon width={28} height={28} />}
                title={workspaceId === null ? "Pick a chat, or a workspace to start one in" : "Start a new chat"}
                data-testid="chat-new-empty"
              >
                <p>{workspaceId === null ? "Chats of every workspace are listed on the left." : "Pick an agent below and say what you want done."}</p>
              </EmptyState>
            </div>
          )}
          {openSessionId !== null && firstOpenRequest !== null ? (
            <div className="chat-waiting" role="status" data-testid="chat-waiting">
              <span>The agent is waiting for your answer.</span>
              <button type="button" className="chat-link-button" onClick={() => openSession(openSessionId, firstOpenRequest)}>
                Show the request
              </button>
            </div>
          ) : null}
          {state.working && state.workingSince !== null ? (
            <WorkingIndicator
              since={state.workingSince}
              silentMs={state.silentMs}
              cancelling={cancelling}
              onCancel={() => {
                if (openSessionId !== null) cancel.mutate(openSessionId);
              }}
            />
          ) : null}
          <Composer
            value={draft}
            onChange={(text) => setDraft(key, text)}
            onSend={(text) => sendText(text, true)}
            blockedReason={blockedReason}
            disabled={composerDisabled}
            placeholder={composerDisabled ? "Select a workspace to start chatting" : newChat ? "What should the agent do?" : "Reply to the agent"}
            history={history}
            sending={send.isPending}
            error={send.isError ? `Could not send: ${errorText(send.error)}` : cancel.isError ? `Could not cancel: ${errorText(cancel.error)}` : null}
            agentPicker={
              newChat && workspaceId !== null
                ? { agents: agents.data, value: chosenAgent, onChange: setAgentChoice, error: agents.isError ? `Could not list the agents: ${errorText(agents.error)}` : null }
                : undefined
            }
          />
        </div>
        {showChanges && changesApi && workspaceOfChat !== null ? (
          <ChangesPanel
            api={changesApi}
            workspaceId={workspaceOfChat}
            draftMessage={state.title ?? meta?.title ?? ""}
            onOpenFile={(path, line) => {
              api.openLocation(workspaceOfChat, path, line).catch(() => undefined);
            }}
            onSendPrompt={
              openSessionId === null || state.working
                ? null
                : async (text) => {
                    await api.send({ workspaceId: workspaceOfChat, sessionId: openSessionId, agent: null, text });
                  }
            }
            onClose={() => setChangesOpen(false)}
            sessionId={openSessionId}
            turns={state.items.flatMap((item) => (item.type === "turn_end" && item.prompt !== null ? [item.prompt] : []))}
          />
        ) : null}
      </div>
    </section>
  );
}

/** Nothing to talk to yet: what the chat is for, and how to get going. */
function ChatIntroduction() {
  const setNewWorkspaceOpen = useUiStore((state) => state.setNewWorkspaceOpen);
  return (
    <section className="view chat" aria-labelledby="chat-heading">
      <header className="view__header">
        <h1 id="chat-heading" className="view__title">
          Chat
        </h1>
      </header>
      <div className="chat__body">
        <EmptyState
          icon={<ChatIcon width={28} height={28} />}
          title="Pick or create a workspace to start a chat with an agent"
          data-testid="main-empty"
          actions={
            <Button variant="primary" data-testid="main-new-workspace" onClick={() => setNewWorkspaceOpen(true)}>
              <PlusIcon /> New workspace
            </Button>
          }
        >
          <p>
            SAM runs the coding agents you already use, in a workspace on a machine you own: a folder on this computer
            or a VM in your own cloud.
          </p>
          <ul className="agent-list" aria-label="Supported agents">
            {AGENTS.map((agent) => (
              <li key={agent} className="agent-chip">
                {agent}
              </li>
            ))}
          </ul>
        </EmptyState>
      </div>
      <form className="composer" aria-label="Message composer" onSubmit={(event) => event.preventDefault()}>
        <label htmlFor="composer-input" className="sr-only">
          Message
        </label>
        <textarea
          id="composer-input"
          className="composer__input"
          rows={2}
          disabled
          placeholder="Select a workspace to start chatting"
          aria-describedby="composer-note"
        />
        <button type="submit" className="button button--primary composer__send" disabled>
          <SendIcon /> <span>Send</span>
        </button>
        <p id="composer-note" className="sr-only">
          The composer is disabled until a workspace is selected.
        </p>
      </form>
    </section>
  );
}
