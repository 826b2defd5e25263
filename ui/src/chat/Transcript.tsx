// The session's items, virtualised (only what is on screen is in the DOM, rows measured as they
// render), following the bottom while the agent streams unless the reader scrolled up.
import { elementScroll, useVirtualizer, type Virtualizer } from "@tanstack/react-virtual";
import { createContext, memo, useContext, useEffect, useLayoutEffect, useMemo, useRef, useState, type ReactNode } from "react";
import { AgentExitNotice, AgentFailedNotice } from "./AgentExitNotice";
import { ExpansionProvider, useExpanded } from "./expansion";
import { Markdown } from "./Markdown";
import { PermissionPrompt } from "./PermissionPrompt";
import { PlanView } from "./PlanView";
import { indexOfSeq, type ChatItem, type ChatState } from "./reducer";
import { ShippedCard } from "./ShippedCard";
import { ThoughtBlock } from "./ThoughtBlock";
import { BlockPlaceholder, ToolCallCard } from "./ToolCallCard";
import { TurnEnd } from "./TurnEnd";
import { COPY_LABEL, useCopy } from "./useCopy";

/** What the rows can do. Keep the object stable: every row reads it. */
export type TranscriptActions = {
  openLocation: (path: string, line: number | null) => void;
  openLink: (url: string) => void;
  answer: (request: number, optionId: string) => Promise<void>;
  restart: () => Promise<void>;
  /** Re-sends a prompt's text as a new prompt. */
  retry: (text: string) => void;
  /** A new session from this point (everything up to `seq`), in this workspace or in `workspaceId`. */
  fork: (seq: number, workspaceId?: string | null) => void;
  /** Where a shipped pull request stands now; absent: the state recorded when it was shipped. */
  pullRequestState?: (url: string) => Promise<string>;
};

type RowFlags = { canRetry: boolean; canFork: boolean };

const ActionsContext = createContext<TranscriptActions | null>(null);
const FlagsContext = createContext<RowFlags>({ canRetry: false, canFork: false });

function useActions(): TranscriptActions {
  const actions = useContext(ActionsContext);
  if (!actions) throw new Error("Transcript rows need TranscriptActions");
  return actions;
}

function copyTextOf(item: ChatItem): string | null {
  switch (item.type) {
    case "user":
    case "agent":
    case "thought":
      return item.text;
    case "exit":
      return item.stderrTail || null;
    default:
      return null;
  }
}

function ItemActions({ item }: { item: ChatItem }) {
  const actions = useActions();
  const { canRetry, canFork } = useContext(FlagsContext);
  const [copyState, copy] = useCopy();
  const text = copyTextOf(item);
  return (
    <div className="chat-item__actions">
      {item.type === "user" ? (
        <button type="button" className="chat-mini-button" disabled={!canRetry} aria-label="Retry this prompt" onClick={() => actions.retry(item.text)}>
          Retry
        </button>
      ) : null}
      {canFork ? (
        <button type="button" className="chat-mini-button" aria-label="Fork from here" onClick={() => actions.fork(item.endSeq)}>
          Fork
        </button>
      ) : null}
      {text ? (
        <button type="button" className="chat-mini-button" aria-label={copyState === "idle" ? "Copy text" : COPY_LABEL[copyState]} onClick={() => copy(text)}>
          {COPY_LABEL[copyState]}
        </button>
      ) : null}
    </div>
  );
}

function NoiseLine({ id, lines }: { id: string; lines: string[] }) {
  const [open, toggle] = useExpanded(`${id}:noise`);
  return (
    <div className="chat-noise" data-testid="chat-noise">
      <button type="button" className="chat-disclosure chat-disclosure--quiet" aria-expanded={open} onClick={toggle}>
        The agent printed {lines.length === 1 ? "a line" : `${lines.length} lines`} outside the protocol
      </button>
      {open ? <pre className="chat-noise__lines">{lines.join("\n")}</pre> : null}
    </div>
  );
}

type RowProps = { item: ChatItem; streaming: boolean; restartable: boolean };

function ItemBody({ item, streaming, restartable }: RowProps): ReactNode {
  const actions = useActions();
  switch (item.type) {
    case "user":
      return (
        <div className="chat-user">
          <p className="chat-user__text">{item.text}</p>
        </div>
      );
    case "agent":
      return <Markdown text={item.text} onOpenLink={actions.openLink} highlight={!streaming} />;
    case "thought":
      return <ThoughtBlock id={item.key} text={item.text} streaming={streaming} onOpenLink={actions.openLink} />;
    case "block":
      return <BlockPlaceholder blockType={item.blockType} uri={item.uri} />;
    case "tool":
      return <ToolCallCard id={item.key} call={item.call} onOpenLocation={actions.openLocation} />;
    case "plan":
      return <PlanView entries={item.entries} />;
    case "permission":
      return <PermissionPrompt item={item} onAnswer={actions.answer} onOpenLocation={actions.openLocation} />;
    case "turn_end":
      return <TurnEnd item={item} />;
    case "started":
      return (
        <p className="chat-line">
          {item.agentName ?? item.agent}
          {item.agentVersion ? ` ${item.agentVersion}` : ""} started
        </p>
      );
    case "exit":
      return <AgentExitNotice item={item} canRestart={restartable} onRestart={actions.restart} />;
    case "failed":
      return <AgentFailedNotice item={item} canRestart={restartable} onRestart={actions.restart} />;
    case "silent":
      return <p className="chat-line chat-line--warning">No word from the agent for {Math.max(1, Math.round(item.silentMs / 60_000))} min</p>;
    case "noise":
      return <NoiseLine id={item.key} lines={item.lines} />;
    case "suspended":
      return <p className="chat-line">The agent stopped with the workspace's host ({item.reason}). It picks the session up again with your next message.</p>;
    case "resumed":
      return (
        <p className="chat-line">
          {item.agentName ?? "The agent"}
          {item.agentVersion ? ` ${item.agentVersion}` : ""} picked the session up again
        </p>
      );
    case "shipped":
      return <ShippedCard item={item} onOpenLink={actions.openLink} pullRequestState={actions.pullRequestState} />;
    case "unsupported":
      return <p className="chat-line chat-line--quiet">Unsupported update ({item.label})</p>;
  }
}

const ROLE_LABEL: Partial<Record<ChatItem["type"], string>> = { user: "You", agent: "Agent" };

const Row = memo(function Row({ item, streaming, restartable }: RowProps) {
  const label = ROLE_LABEL[item.type];
  return (
    <article className={`chat-item chat-item--${item.type}`} aria-label={label} data-testid="chat-item" data-type={item.type} data-seq={item.seq}>
      {label ? <p className="chat-item__role">{label}</p> : null}
      <ItemBody item={item} streaming={streaming} restartable={restartable} />
      <ItemActions item={item} />
    </article>
  );
});

const STICK_DISTANCE = 48;

function scrollElement(offset: number, options: { adjustments?: number; behavior?: ScrollBehavior }, instance: Virtualizer<HTMLDivElement, Element>) {
  const element = instance.scrollElement;
  // jsdom and very old engines have no scrollTo.
  if (element && typeof element.scrollTo !== "function") {
    element.scrollTop = offset + (options.adjustments ?? 0);
    return;
  }
  elementScroll(offset, options, instance);
}

type TranscriptProps = {
  state: ChatState;
  actions: TranscriptActions;
  canRetry: boolean;
  canFork: boolean;
  /** Scroll to the item showing this event (a search result), then call onFocused. */
  focusSeq?: number | null;
  onFocused?: () => void;
};

export function Transcript({ state, actions, canRetry, canFork, focusSeq = null, onFocused }: TranscriptProps) {
  const { items } = state;
  const scroller = useRef<HTMLDivElement>(null);
  const stick = useRef(true);
  const lastTop = useRef(0);
  const [showJump, setShowJump] = useState(false);
  const [highlighted, setHighlighted] = useState<string | null>(null);
  const flags = useMemo(() => ({ canRetry, canFork }), [canRetry, canFork]);

  const virtualizer = useVirtualizer({
    count: items.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => 80,
    overscan: 2,
    // Opened at the bottom: the first rows rendered are the newest, not the first ones (which
    // would be rendered, measured and thrown away before the scroll to the end).
    initialOffset: () => (stick.current ? Number.MAX_SAFE_INTEGER : 0),
    getItemKey: (index) => items[index]?.key ?? index,
    scrollToFn: scrollElement,
  });
  const totalSize = virtualizer.getTotalSize();

  // Follow the bottom while sticking: after new items and after rows grew.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element || !stick.current || focusSeq !== null) return;
    element.scrollTop = element.scrollHeight;
    lastTop.current = element.scrollTop;
  }, [totalSize, items.length, focusSeq]);

  // Scroll to a search result once its event is loaded.
  useEffect(() => {
    // Wait until the event is loaded: newer ones arrive first, older ones right after.
    if (focusSeq === null || state.lastSeq < focusSeq || focusSeq <= state.loadedAfter) return;
    const index = indexOfSeq(items, focusSeq);
    if (index >= 0) {
      stick.current = false;
      setShowJump(index < items.length - 1);
      virtualizer.scrollToIndex(index, { align: "center" });
      setHighlighted(items[index]!.key);
    }
    onFocused?.();
  }, [focusSeq, state.lastSeq, state.loadedAfter, items, virtualizer, onFocused]);

  function onScroll() {
    const element = scroller.current;
    if (!element) return;
    const top = element.scrollTop;
    const distance = element.scrollHeight - top - element.clientHeight;
    if (distance <= STICK_DISTANCE) stick.current = true;
    // Only the reader moving up lets go; content growing under us does not.
    else if (top < lastTop.current - 1) stick.current = false;
    lastTop.current = top;
    setShowJump(!stick.current);
  }

  function jumpToLatest() {
    stick.current = true;
    setShowJump(false);
    setHighlighted(null);
    const element = scroller.current;
    if (items.length > 0) virtualizer.scrollToIndex(items.length - 1, { align: "end" });
    if (element) element.scrollTop = element.scrollHeight;
  }

  const lastIndex = items.length - 1;
  return (
    <ActionsContext.Provider value={actions}>
      <FlagsContext.Provider value={flags}>
        <ExpansionProvider>
          <div className="chat-transcript">
            <div ref={scroller} className="chat-transcript__scroller" role="log" aria-label="Transcript" aria-live="off" tabIndex={0} onScroll={onScroll} data-testid="chat-transcript">
              <div className="chat-transcript__inner" style={{ height: totalSize }}>
                {virtualizer.getVirtualItems().map((row) => {
                  const item = items[row.index]!;
                  return (
                    <div
                      key={row.key}
                      data-index={row.index}
                      ref={virtualizer.measureElement}
                      className={`chat-transcript__row${highlighted === item.key ? " chat-transcript__row--focus" : ""}`}
                      style={{ transform: `translateY(${row.start}px)` }}
                    >
                      <Row
                        item={item}
                        streaming={state.working && row.index === lastIndex}
                        restartable={item.key === state.exitedKey || item.key === state.failedKey}
                      />
                    </div>
                  );
                })}
              </div>
            </div>
            {showJump ? (
              <button type="button" className="button button--secondary button--small chat-transcript__jump" onClick={jumpToLatest}>
                Jump to latest ↓
              </button>
            ) : null}
          </div>
        </ExpansionProvider>
      </FlagsContext.Provider>
    </ActionsContext.Provider>
  );
}
