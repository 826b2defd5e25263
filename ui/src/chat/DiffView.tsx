// A unified diff of an edit (oldText → newText), computed with `diff`.
import { structuredPatch } from "diff";
import { useMemo, useState } from "react";

export type DiffLine = { kind: "add" | "del" | "ctx" | "hunk" | "note"; text: string };
export type Diff = { lines: DiffLine[]; added: number; removed: number };

const SHOWN_LINES = 400;

/** null when the change is too large to compute quickly. */
export function computeDiff(oldText: string | null, newText: string): Diff | null {
  const patch = structuredPatch("a", "b", oldText ?? "", newText, undefined, undefined, { context: 3, maxEditLength: 20_000 });
  if (!patch) return null;
  const lines: DiffLine[] = [];
  let added = 0;
  let removed = 0;
  for (const hunk of patch.hunks) {
    lines.push({ kind: "hunk", text: `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@` });
    for (const line of hunk.lines) {
      const sign = line[0];
      if (sign === "+") {
        added += 1;
        lines.push({ kind: "add", text: line });
      } else if (sign === "-") {
        removed += 1;
        lines.push({ kind: "del", text: line });
      } else if (sign === "\\") lines.push({ kind: "note", text: line });
      else lines.push({ kind: "ctx", text: line });
    }
  }
  return { lines, added, removed };
}

export function DiffView({ path, oldText, newText }: { path: string; oldText: string | null; newText: string }) {
  const diff = useMemo(() => computeDiff(oldText, newText), [oldText, newText]);
  const [showAll, setShowAll] = useState(false);
  const shown = diff === null ? [] : showAll ? diff.lines : diff.lines.slice(0, SHOWN_LINES);
  return (
    <figure className="chat-diff" data-testid="chat-diff">
      <figcaption className="chat-diff__header">
        <code className="chat-diff__path">{path}</code>
        {oldText === null ? <span className="status-tag status-tag--ok">new file</span> : null}
        {diff ? (
          <span className="chat-diff__stats">
            <span className="chat-diff__added">+{diff.added}</span> <span className="chat-diff__removed">−{diff.removed}</span>
          </span>
        ) : null}
      </figcaption>
      {diff === null ? (
        <p className="muted small chat-diff__note">This change is too large to show as a diff.</p>
      ) : diff.lines.length === 0 ? (
        <p className="muted small chat-diff__note">No changes.</p>
      ) : (
        <pre className="chat-diff__body" aria-label={`Changes to ${path}`}>
          {shown.map((line, index) => (
            <span key={index} className={`chat-diff__line chat-diff__line--${line.kind}`}>
              {line.text}
              {"\n"}
            </span>
          ))}
        </pre>
      )}
      {diff && !showAll && diff.lines.length > SHOWN_LINES ? (
        <button type="button" className="chat-mini-button" onClick={() => setShowAll(true)}>
          Show all {diff.lines.length} lines
        </button>
      ) : null}
    </figure>
  );
}
