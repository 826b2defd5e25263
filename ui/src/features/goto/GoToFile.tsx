// Ctrl+P / Cmd+P: a fuzzy finder over the workspace's files. Typing asks the core (debounced;
// only the latest answer is shown), arrows pick, Enter opens in the user's editor — at a line
// when the query ends in `:line` — and the quick view takes over when no editor can.
import { useEffect, useId, useRef, useState, type KeyboardEvent, type ReactNode } from "react";
import { describeLocation, errorText, isNoEditor, outcomeMessage, parseGoToQuery, type FileApi, type OpenOutcome } from "../../shared/files/files";
import "../../shared/files/files.css";
import { Overlay } from "../../shared/files/Overlay";
import { QuickView } from "../../shared/files/QuickView";

export const FIND_DEBOUNCE_MS = 30;
export const FIND_LIMIT = 50;
/** How long the "Opened in …" note stays after the finder closes. */
const STATUS_MS = 4000;

export type GoToFileProps = {
  api: FileApi;
  /** The workspace to search; null: none is selected (the finder says so). */
  workspaceId: string | null;
  /** Whether the finder shows. Keep the component mounted: it also shows the quick view and the outcome after the finder closes. */
  open: boolean;
  /** Asked to close (Escape, a click outside, a file opened). */
  onClose: () => void;
  /** Told where a file was opened. */
  onOpened?: (outcome: OpenOutcome | void, path: string) => void;
};

type QuickViewRequest = { workspaceId: string; path: string; line: number | null; note: string | null };

export function GoToFile({ api, workspaceId, open, onClose, onOpened }: GoToFileProps) {
  const [quickView, setQuickView] = useState<QuickViewRequest | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  useEffect(() => {
    if (status === null) return;
    const timer = setTimeout(() => setStatus(null), STATUS_MS);
    return () => clearTimeout(timer);
  }, [status]);

  return (
    <>
      {open && quickView === null ? (
        <Finder
          api={api}
          workspaceId={workspaceId}
          onClose={onClose}
          onOpened={(outcome, path, line) => {
            onOpened?.(outcome, path);
            if (outcome && outcome.how === "quick_view") {
              setQuickView({ workspaceId: workspaceId!, path, line, note: outcome.message || null });
              return;
            }
            if (outcome) setStatus(outcomeMessage(outcome, path, line));
            onClose();
          }}
          onNoEditor={(path, line) => setQuickView({ workspaceId: workspaceId!, path, line, note: "No editor is set up to open it: choose one in Settings" })}
        />
      ) : null}
      {quickView ? (
        <QuickView
          api={api}
          workspaceId={quickView.workspaceId}
          path={quickView.path}
          line={quickView.line}
          note={quickView.note}
          onClose={() => {
            setQuickView(null);
            onClose();
          }}
        />
      ) : null}
      <p className="goto-status" role="status" data-testid="goto-status">
        {status}
      </p>
    </>
  );
}

type FinderProps = {
  api: FileApi;
  workspaceId: string | null;
  onClose: () => void;
  onOpened: (outcome: OpenOutcome | void, path: string, line: number | null) => void;
  onNoEditor: (path: string, line: number | null) => void;
};

type Results = { query: string; matches: Array<{ path: string; positions: number[] }>; indexedFiles: number };

function Finder({ api, workspaceId, onClose, onOpened, onNoEditor }: FinderProps) {
  const [input, setInput] = useState("");
  const [results, setResults] = useState<Results | null>(null);
  const [findError, setFindError] = useState<string | null>(null);
  const [openError, setOpenError] = useState<string | null>(null);
  const [selected, setSelected] = useState(0);
  const [opening, setOpening] = useState(false);
  const latest = useRef(0);
  const inputRef = useRef<HTMLInputElement>(null);
  const titleId = useId();
  const listId = useId();
  const { query, line, column } = parseGoToQuery(input);
  const findFiles = api.findFiles;

  useEffect(() => {
    if (!findFiles || workspaceId === null) return;
    const request = ++latest.current;
    const timer = setTimeout(() => {
      findFiles(workspaceId, query, FIND_LIMIT).then(
        (found) => {
          if (request !== latest.current) return;
          setResults({ query, matches: found.matches, indexedFiles: found.indexedFiles });
          setFindError(null);
          setSelected(0);
        },
        (error: unknown) => {
          if (request !== latest.current) return;
          setFindError(errorText(error));
        },
      );
    }, FIND_DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [findFiles, workspaceId, query]);

  const matches = results?.matches ?? [];
  const active = matches.length > 0 ? Math.min(selected, matches.length - 1) : -1;

  function openAt(index: number) {
    const match = matches[index];
    if (!match || workspaceId === null || opening) return;
    setOpening(true);
    setOpenError(null);
    const request = column === null ? api.openLocation(workspaceId, match.path, line) : api.openLocation(workspaceId, match.path, line, column);
    request.then(
      (outcome) => {
        setOpening(false);
        onOpened(outcome, match.path, line);
      },
      (error: unknown) => {
        setOpening(false);
        if (isNoEditor(error)) onNoEditor(match.path, line);
        else setOpenError(`Could not open ${describeLocation(match.path, line)}: ${errorText(error)}`);
      },
    );
  }

  function onKeyDown(event: KeyboardEvent<HTMLInputElement>) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (matches.length === 0) return;
      const step = event.key === "ArrowDown" ? 1 : -1;
      setSelected((active + step + matches.length) % matches.length);
    } else if (event.key === "Enter") {
      event.preventDefault();
      if (active >= 0) openAt(active);
    }
  }

  let body: ReactNode;
  if (workspaceId === null) body = <p className="goto__state">Select a workspace to go to its files.</p>;
  else if (!findFiles) body = <p className="goto__state">This workspace cannot be searched from SAM.</p>;
  else if (findError !== null)
    body = (
      <p className="goto__state goto__state--error" role="alert">
        Could not search the files: {findError}
      </p>
    );
  else if (results === null) body = <p className="goto__state">Searching…</p>;
  else if (matches.length === 0)
    body = <p className="goto__state">{results.indexedFiles === 0 ? "The workspace has no files yet." : `No file matches “${results.query}”.`}</p>;
  else body = null;

  const optionId = (index: number) => `${listId}-${index}`;
  return (
    <Overlay className="goto" labelledBy={titleId} onClose={onClose} initialFocus={inputRef} data-testid="goto-file">
      <h2 id={titleId} className="sr-only">
        Go to file
      </h2>
      <input
        ref={inputRef}
        className="input goto__input"
        type="text"
        role="combobox"
        aria-label="File name, optionally :line"
        aria-expanded={matches.length > 0}
        aria-controls={listId}
        aria-autocomplete="list"
        aria-activedescendant={active >= 0 ? optionId(active) : undefined}
        placeholder="Go to file (path:line to jump to a line)"
        autoComplete="off"
        spellCheck={false}
        value={input}
        onChange={(event) => setInput(event.target.value)}
        onKeyDown={onKeyDown}
      />
      <ul id={listId} className="goto__list" role="listbox" aria-label="Files">
        {matches.map((match, index) => (
          <li
            key={match.path}
            id={optionId(index)}
            role="option"
            aria-selected={index === active}
            className={index === active ? "goto__option goto__option--active" : "goto__option"}
            onMouseMove={() => setSelected(index)}
            onMouseDown={(event) => event.preventDefault()}
            onClick={() => openAt(index)}
          >
            <HighlightedPath path={match.path} positions={match.positions} />
          </li>
        ))}
      </ul>
      {body}
      {openError ? (
        <p className="goto__state goto__state--error" role="alert">
          {openError}
        </p>
      ) : null}
      <footer className="goto__footer">
        <span data-testid="goto-indexed">{results ? `${results.indexedFiles.toLocaleString("en-US")} ${results.indexedFiles === 1 ? "file" : "files"} indexed` : ""}</span>
        <span>
          {line === null ? "" : `Opens at line ${line}${column === null ? "" : `, column ${column}`} · `}↑↓ to pick · Enter to open · Esc to close
        </span>
      </footer>
    </Overlay>
  );
}

/** The file name first, then its folder, with the matched characters marked. `positions` count characters (code points), as the core does. */
export function HighlightedPath({ path, positions }: { path: string; positions: readonly number[] }) {
  const chars = Array.from(path);
  const marked = new Set(positions);
  const slash = Math.max(path.lastIndexOf("/"), path.lastIndexOf("\\"));
  const nameStart = slash < 0 ? 0 : Array.from(path.slice(0, slash + 1)).length;
  const run = (from: number, to: number) => {
    const parts: ReactNode[] = [];
    let at = from;
    while (at < to) {
      const isMarked = marked.has(at);
      let end = at;
      while (end < to && marked.has(end) === isMarked) end += 1;
      const text = chars.slice(at, end).join("");
      parts.push(isMarked ? <mark key={at}>{text}</mark> : text);
      at = end;
    }
    return parts;
  };
  return (
    <>
      <span className="goto__name">{run(nameStart, chars.length)}</span>
      {nameStart > 0 ? <span className="goto__dir">{run(0, nameStart)}</span> : null}
    </>
  );
}

/** Calls `onOpen` on Ctrl+P (Cmd+P on macOS), and keeps the webview's print dialog from opening. */
export function useGoToFileShortcut(onOpen: () => void): void {
  const latest = useRef(onOpen);
  useEffect(() => {
    latest.current = onOpen;
  });
  useEffect(() => {
    function onKeyDown(event: globalThis.KeyboardEvent) {
      if (event.isComposing || event.altKey || event.shiftKey || !(event.ctrlKey || event.metaKey)) return;
      if (event.key !== "p" && event.key !== "P") return;
      event.preventDefault();
      latest.current();
    }
    // Capture: a focused field that stops the event still cannot let the print dialog through.
    window.addEventListener("keydown", onKeyDown, { capture: true });
    return () => window.removeEventListener("keydown", onKeyDown, { capture: true });
  }, []);
}
