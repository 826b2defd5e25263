// A read-only view of one workspace file, for when no editor can open it (or as a fallback):
// line numbers, the asked-for line (or range) highlighted and scrolled to. Lines are virtualised
// (only those on screen are in the DOM), so a long file costs what a short one does.
import { useQuery } from "@tanstack/react-query";
import { observeElementRect, useVirtualizer, type Virtualizer } from "@tanstack/react-virtual";
import { useId, useLayoutEffect, useMemo, useRef } from "react";
import { errorText, formatSize, type FileApi } from "./files";
import "./files.css";
import { Overlay } from "./Overlay";

/** Keep in sync with .quick-view__line's height in files.css. */
export const LINE_HEIGHT_PX = 20;
/** Longer lines are cut (a minified file would otherwise be one enormous row). */
export const LINE_CHAR_LIMIT = 2000;

export type QuickViewProps = {
  api: Pick<FileApi, "readFile">;
  workspaceId: string;
  /** Workspace-relative. */
  path: string;
  line?: number | null;
  /** The last line of a highlighted range. */
  endLine?: number | null;
  /** Why the quick view is showing (e.g. no editor is set up). */
  note?: string | null;
  onClose: () => void;
};

export function QuickView({ api, workspaceId, path, line = null, endLine = null, note = null, onClose }: QuickViewProps) {
  const titleId = useId();
  const readFile = api.readFile;
  const file = useQuery({
    queryKey: ["files", "read", workspaceId, path],
    queryFn: () => readFile!(workspaceId, path),
    enabled: readFile !== undefined,
    retry: false,
    gcTime: 0,
  });
  const closeRef = useRef<HTMLButtonElement>(null);

  let body;
  if (!readFile) body = <p className="quick-view__state">This workspace cannot show files in SAM.</p>;
  else if (file.isPending) body = <p className="quick-view__state">Loading {path}…</p>;
  else if (file.isError)
    body = (
      <p className="quick-view__state quick-view__state--error" role="alert">
        Could not read {path}: {errorText(file.error)}
      </p>
    );
  else if (file.data.text === null)
    body = (
      <p className="quick-view__state" data-testid="quick-view-binary">
        {path} is a binary file ({formatSize(file.data.sizeBytes)}); it cannot be shown here.
      </p>
    );
  else if (file.data.text === "") body = <p className="quick-view__state">The file is empty.</p>;
  else
    body = (
      <>
        {file.data.truncated ? (
          <p className="quick-view__notice" data-testid="quick-view-truncated">
            The file is {formatSize(file.data.sizeBytes)}: only its beginning is shown.
          </p>
        ) : null}
        <FileLines text={file.data.text} line={line} endLine={endLine} label={path} />
      </>
    );

  return (
    <Overlay className="quick-view" labelledBy={titleId} onClose={onClose} initialFocus={closeRef} data-testid="quick-view">
      <header className="quick-view__header">
        <div className="quick-view__heading">
          <h2 id={titleId} className="quick-view__title">
            {path}
          </h2>
          <p className="quick-view__subtitle">
            Read-only{line === null ? "" : ` · ${endLine !== null && endLine > line ? `lines ${line}–${endLine}` : `line ${line}`}`}
            {note ? ` · ${note}` : ""}
          </p>
        </div>
        <button ref={closeRef} type="button" className="icon-button quick-view__close" aria-label="Close the quick view" title="Close (Escape)" onClick={onClose}>
          <span aria-hidden="true">×</span>
        </button>
      </header>
      {body}
    </Overlay>
  );
}

function scrollTo(offset: number, _options: unknown, instance: Virtualizer<HTMLDivElement, Element>) {
  if (instance.scrollElement) instance.scrollElement.scrollTop = offset;
}

/** Before layout (and in jsdom) the viewport measures 0: assume a screenful rather than show nothing. */
const ASSUMED_VIEWPORT = { width: 800, height: 600 };

function observeViewport(instance: Virtualizer<HTMLDivElement, Element>, onChange: (rect: { width: number; height: number }) => void) {
  return observeElementRect(instance, (rect) => onChange(rect.height > 0 ? rect : ASSUMED_VIEWPORT));
}

function FileLines({ text, line, endLine, label }: { text: string; line: number | null; endLine: number | null; label: string }) {
  const lines = useMemo(() => {
    const all = text.split(/\r?\n/);
    // A final newline ends the last line; it does not start another.
    if (all.length > 1 && all[all.length - 1] === "") all.pop();
    return all;
  }, [text]);
  const scroller = useRef<HTMLDivElement>(null);
  const target = line === null ? null : Math.min(Math.max(line, 1), lines.length);
  const last = target === null ? null : Math.max(target, Math.min(endLine ?? target, lines.length));
  const initialTop = target === null ? 0 : Math.max(0, (target - 1) * LINE_HEIGHT_PX - 200);

  const virtualizer = useVirtualizer({
    count: lines.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => LINE_HEIGHT_PX,
    overscan: 30,
    initialOffset: initialTop,
    initialRect: ASSUMED_VIEWPORT,
    observeElementRect: observeViewport,
    scrollToFn: scrollTo,
  });

  // Centre the target line once the lines are laid out.
  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element || target === null) return;
    element.scrollTop = Math.max(0, (target - 1) * LINE_HEIGHT_PX - (element.clientHeight - LINE_HEIGHT_PX) / 2);
  }, [target]);

  const items = virtualizer.getVirtualItems();
  const before = items[0]?.start ?? 0;
  const after = virtualizer.getTotalSize() - (items[items.length - 1]?.end ?? 0);
  const gutter = `${String(lines.length).length + 1}ch`;
  return (
    <div ref={scroller} className="quick-view__scroller" tabIndex={0} role="region" aria-label={`Contents of ${label}`} data-testid="quick-view-lines">
      <div className="quick-view__lines" style={{ paddingTop: before, paddingBottom: after }}>
        {items.map((item) => {
          const number = item.index + 1;
          const highlighted = target !== null && last !== null && number >= target && number <= last;
          const content = lines[item.index]!;
          return (
            <div
              key={item.key}
              className={highlighted ? "quick-view__line quick-view__line--target" : "quick-view__line"}
              data-line={number}
              aria-current={number === target ? "location" : undefined}
            >
              <span className="quick-view__number" style={{ width: gutter }} aria-hidden="true">
                {number}
              </span>
              <span className="quick-view__text">
                {content.length > LINE_CHAR_LIMIT ? `${content.slice(0, LINE_CHAR_LIMIT)} … (${content.length - LINE_CHAR_LIMIT} more characters)` : content}
              </span>
            </div>
          );
        })}
      </div>
    </div>
  );
}
