// A unified diff (git's output for one file) as rows the diff view renders: hunk headers, and
// lines with their old and new line numbers.
//
// Parsed here rather than with `diff`'s parsePatch: the workspace cuts long diffs at a size
// limit, and parsePatch rejects a hunk that ends early; this reads what is there.

export type DiffRow =
  | { kind: "hunk"; text: string; newStart: number }
  | { kind: "add" | "del" | "ctx"; text: string; oldLine: number | null; newLine: number | null }
  | { kind: "note"; text: string };

const HUNK = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/;

export function diffRows(text: string): DiffRow[] {
  const rows: DiffRow[] = [];
  let oldLine = 0;
  let newLine = 0;
  let inHunk = false;
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    const hunk = HUNK.exec(line);
    if (hunk) {
      oldLine = Number(hunk[1]);
      newLine = Number(hunk[2]);
      inHunk = true;
      rows.push({ kind: "hunk", text: line, newStart: newLine });
      continue;
    }
    if (!inHunk) continue; // the file header (diff --git, index, ---, +++)
    const sign = line[0];
    const body = line.slice(1);
    if (sign === "+") rows.push({ kind: "add", text: body, oldLine: null, newLine: newLine++ });
    else if (sign === "-") rows.push({ kind: "del", text: body, oldLine: oldLine++, newLine: null });
    else if (sign === "\\") rows.push({ kind: "note", text: line });
    else if (sign === " " || line === "") rows.push({ kind: "ctx", text: body, oldLine: oldLine++, newLine: newLine++ });
    else inHunk = false; // the next file's header
  }
  return rows;
}

/** The prompt a comment on lines of the diff sends: the file, the lines, and what the user wrote. */
export function commentPrompt(path: string, rows: DiffRow[], comment: string): string {
  const lines = rows.filter((row): row is Extract<DiffRow, { oldLine: number | null }> => row.kind === "add" || row.kind === "del" || row.kind === "ctx");
  const numbers = lines.map((row) => row.newLine ?? row.oldLine).filter((n): n is number => n !== null);
  const first = Math.min(...numbers);
  const last = Math.max(...numbers);
  const where = numbers.length === 0 ? path : first === last ? `${path}:${first}` : `${path}:${first}-${last}`;
  const quoted = lines.map((row) => `${row.kind === "add" ? "+" : row.kind === "del" ? "-" : " "}${row.text}`).join("\n");
  return `About ${where} in the current changes:\n\n\`\`\`diff\n${quoted}\n\`\`\`\n\n${comment.trim()}`;
}
