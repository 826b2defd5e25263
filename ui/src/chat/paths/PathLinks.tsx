// File paths in the chat as links that open in the user's editor. The provider (installed by
// ChatView for the chat's workspace) holds the workspace's PathResolver, opens files, says how
// they were opened, and shows the read-only quick view when no editor can open them. Without a
// provider, or without ChatApi.resolvePaths, paths stay plain text.
import { createContext, useContext, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactNode } from "react";
import { describeLocation, errorText, isNoEditor, outcomeMessage } from "../../shared/files/files";
import { QuickView } from "../../shared/files/QuickView";
import type { ChatApi } from "../api";
import { PathResolver, type Resolution } from "./resolver";

export type PathLinks = {
  workspaceId: string;
  /** Null when the core cannot say which paths exist: nothing in text becomes a link. */
  resolver: PathResolver | null;
  /** Opens a workspace-relative path (as the resolver returned it) and reports the outcome. */
  open: (path: string, line: number | null, column: number | null, endLine?: number | null) => void;
};

const PathLinksContext = createContext<PathLinks | null>(null);

export function usePathLinks(): PathLinks | null {
  return useContext(PathLinksContext);
}

/** How long an outcome stays on screen. */
const STATUS_MS = { info: 4000, error: 10_000 };

type Status = { tone: "info" | "error"; text: string };
type QuickViewRequest = { workspaceId: string; path: string; line: number | null; endLine: number | null; note: string | null };

type PathLinksProviderProps = {
  api: ChatApi;
  /** The chat's workspace; null: no links. */
  workspaceId: string | null;
  /** While the agent works it may create files: answers are asked again when it stops. */
  agentWorking?: boolean;
  children: ReactNode;
};

export function PathLinksProvider({ api, workspaceId, agentWorking = false, children }: PathLinksProviderProps) {
  const [status, setStatus] = useState<Status | null>(null);
  const [quickView, setQuickView] = useState<QuickViewRequest | null>(null);

  const resolver = useMemo(() => {
    const resolvePaths = api.resolvePaths;
    if (!resolvePaths || workspaceId === null) return null;
    return new PathResolver((candidates) => resolvePaths.call(api, workspaceId, candidates));
  }, [api, workspaceId]);
  useEffect(() => () => resolver?.dispose(), [resolver]);

  // A turn that ended may have created (or deleted) files.
  const wasWorking = useRef(agentWorking);
  useEffect(() => {
    if (wasWorking.current && !agentWorking) resolver?.invalidate();
    wasWorking.current = agentWorking;
  }, [agentWorking, resolver]);

  useEffect(() => {
    if (status === null) return;
    const timer = setTimeout(() => setStatus(null), STATUS_MS[status.tone]);
    return () => clearTimeout(timer);
  }, [status]);

  const value = useMemo<PathLinks | null>(() => {
    if (workspaceId === null) return null;
    return {
      workspaceId,
      resolver,
      open: (path, line, column, endLine = null) => {
        // The column only when known, so a core that takes none is called as before.
        const request = column === null ? api.openLocation(workspaceId, path, line) : api.openLocation(workspaceId, path, line, column);
        request.then(
          (outcome) => {
            if (!outcome) return;
            if (outcome.how === "quick_view") {
              setStatus(null);
              setQuickView({ workspaceId, path, line, endLine, note: outcome.message || null });
            } else setStatus({ tone: "info", text: outcomeMessage(outcome, path, line) });
          },
          (error: unknown) => {
            if (isNoEditor(error)) {
              setStatus(null);
              setQuickView({ workspaceId, path, line, endLine, note: "No editor is set up to open it: choose one in Settings" });
            } else setStatus({ tone: "error", text: `Could not open ${describeLocation(path, line)}: ${errorText(error)}` });
          },
        );
      },
    };
  }, [api, workspaceId, resolver]);

  return (
    <PathLinksContext.Provider value={value}>
      {children}
      <p className={status?.tone === "error" ? "path-status path-status--error" : "path-status"} role="status" data-testid="path-status">
        {status?.text}
      </p>
      {quickView ? (
        <QuickView
          api={api}
          workspaceId={quickView.workspaceId}
          path={quickView.path}
          line={quickView.line}
          endLine={quickView.endLine}
          note={quickView.note}
          onClose={() => setQuickView(null)}
        />
      ) : null}
    </PathLinksContext.Provider>
  );
}

const noSubscription = () => () => {};

/**
 * Whether `candidate` (a path as written) exists in the workspace: its workspace-relative path,
 * null when it does not, undefined while unknown. Asks only while `active` (a message still
 * streaming in is not asked about: its paths may be half-written).
 */
export function useResolvedPath(candidate: string, active = true): Resolution {
  const resolver = usePathLinks()?.resolver ?? null;
  const subscribe = resolver ? resolver.subscribe : noSubscription;
  const resolution = useSyncExternalStore(subscribe, () => resolver?.peek(candidate));
  const version = useSyncExternalStore(subscribe, () => resolver?.version() ?? 0);
  useEffect(() => {
    if (resolver && active) resolver.ensure(candidate);
  }, [resolver, candidate, active, version]);
  return resolution;
}

/** "Open src/a.rs at line 42 in your editor" */
export function openLabel(path: string, line: number | null): string {
  return `Open ${describeLocation(path, line)} in your editor`;
}

type PathLinkProps = {
  /** The path as written in the text. */
  path: string;
  line: number | null;
  column?: number | null;
  endLine?: number | null;
  /** False while the text streams in. */
  active?: boolean;
  className?: string;
  /** What shows until (or unless) the path is confirmed; the children by default. */
  fallback?: ReactNode;
  /** The original text. */
  children: ReactNode;
};

/** The text as a button that opens the file, once the workspace confirmed it exists. */
export function PathLink({ path, line, column = null, endLine = null, active = true, className, fallback, children }: PathLinkProps) {
  const links = usePathLinks();
  const resolved = useResolvedPath(path, active);
  if (!links || typeof resolved !== "string") return <>{fallback ?? children}</>;
  const label = openLabel(resolved, line);
  return (
    <button
      type="button"
      className={className ? `path-link ${className}` : "path-link"}
      title={label}
      aria-label={label}
      data-testid="path-link"
      onClick={() => links.open(resolved, line, column, endLine)}
    >
      {children}
    </button>
  );
}
