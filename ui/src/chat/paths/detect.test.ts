import { describe, expect, it } from "vitest";
import { detectPaths, parsePathTarget, trailingLine, type PathMention } from "./detect";

/** A found mention; line, column and endLine default to null. */
type Expected = { path: string; line?: number; column?: number; endLine?: number; start?: number; end?: number };

function found(text: string): Partial<PathMention>[] {
  return detectPaths(text).map(({ path, line, column, endLine }) => ({ path, line, column, endLine }));
}

function expected(mentions: Expected[]): Partial<PathMention>[] {
  return mentions.map(({ path, line = null, column = null, endLine = null }) => ({ path, line, column, endLine }));
}

const POSITIVE: [name: string, text: string, mentions: Expected[]][] = [
  ["a relative path", "I changed src/api/upload.rs for you", [{ path: "src/api/upload.rs" }]],
  ["a path with a line", "see src/main.rs:42", [{ path: "src/main.rs", line: 42 }]],
  ["a path with a line and a column", "error at src/main.rs:42:7", [{ path: "src/main.rs", line: 42, column: 7 }]],
  ["a line range after a colon", "look at src/lib.rs:10-20", [{ path: "src/lib.rs", line: 10, endLine: 20 }]],
  ["a GitHub-style line anchor", "src/lib.rs#L10", [{ path: "src/lib.rs", line: 10 }]],
  ["a GitHub-style line range", "src/lib.rs#L10-L20", [{ path: "src/lib.rs", line: 10, endLine: 20 }]],
  ["a GitHub-style range without the second L", "src/lib.rs#L10-20", [{ path: "src/lib.rs", line: 10, endLine: 20 }]],
  ["a line anchor with a column", "src/lib.rs#L10C5", [{ path: "src/lib.rs", line: 10, column: 5 }]],
  ["a Markdown anchor (no line)", "docs/setup.md#install", [{ path: "docs/setup.md" }]],
  ["a line in parentheses", "ui/src/App.tsx (line 12)", [{ path: "ui/src/App.tsx", line: 12 }]],
  ["a line range in parentheses", "ui/src/App.tsx (lines 12-30)", [{ path: "ui/src/App.tsx", line: 12, endLine: 30 }]],
  ["a line after a comma", "ui/src/App.tsx, line 9", [{ path: "ui/src/App.tsx", line: 9 }]],
  ["a Python traceback line", 'File "app/models.py", line 42, in save', [{ path: "app/models.py", line: 42 }]],
  ["a line named in words", "ui/src/App.tsx line 3", [{ path: "ui/src/App.tsx", line: 3 }]],
  ["a line after at", "crates/a/src/lib.rs at line 7", [{ path: "crates/a/src/lib.rs", line: 7 }]],
  ["an absolute Unix path", "wrote /home/ada/api/src/main.rs", [{ path: "/home/ada/api/src/main.rs" }]],
  ["a home-relative path", "~/projects/api/Cargo.toml", [{ path: "~/projects/api/Cargo.toml" }]],
  ["a dot-relative path", "./scripts/run.sh", [{ path: "./scripts/run.sh" }]],
  ["a parent-relative path", "../shared/design/STYLE.md", [{ path: "../shared/design/STYLE.md" }]],
  ["a Windows path", "C:\\Users\\ada\\api\\src\\main.rs:3", [{ path: "C:\\Users\\ada\\api\\src\\main.rs", line: 3 }]],
  ["a Windows path with forward slashes", "D:/work/api/main.go", [{ path: "D:/work/api/main.go" }]],
  ["a relative Windows path", "src\\main.rs", [{ path: "src\\main.rs" }]],
  ["Cargo.toml alone", "bump Cargo.toml", [{ path: "Cargo.toml" }]],
  ["main.rs alone", "in main.rs", [{ path: "main.rs" }]],
  ["README.md alone", "update README.md", [{ path: "README.md" }]],
  ["a Dockerfile", "the Dockerfile installs it", [{ path: "Dockerfile" }]],
  ["a Makefile", "run the Makefile target", [{ path: "Makefile" }]],
  ["a dotfile with an extension", "copy .env.example to .env", [{ path: ".env.example" }, { path: ".env" }]],
  ["a workflow under a dot directory", ".github/workflows/ci.yml", [{ path: ".github/workflows/ci.yml" }]],
  ["a dotfile under a directory", "config/.eslintrc.json", [{ path: "config/.eslintrc.json" }]],
  ["a path in backticks", "edit `src/lib.rs` now", [{ path: "src/lib.rs" }]],
  ["a path with a line in backticks", "`src/lib.rs:7`", [{ path: "src/lib.rs", line: 7 }]],
  ["a line in words after backticks", "`src/lib.rs` (line 8)", [{ path: "src/lib.rs", line: 8 }]],
  ["a Markdown link target", "[upload](src/api/upload.rs#L42)", [{ path: "src/api/upload.rs", line: 42 }]],
  ["a path in bold", "**src/lib.rs**", [{ path: "src/lib.rs" }]],
  ["a sentence-ending period", "I edited src/lib.rs.", [{ path: "src/lib.rs" }]],
  ["a sentence-ending period after a line", "It fails at src/lib.rs:12.", [{ path: "src/lib.rs", line: 12 }]],
  ["a trailing colon", "Changes in src/lib.rs:", [{ path: "src/lib.rs" }]],
  ["a trailing comma and semicolon", "src/a.ts, src/b.ts; done", [{ path: "src/a.ts" }, { path: "src/b.ts" }]],
  ["a path in parentheses", "(see src/lib.rs)", [{ path: "src/lib.rs" }]],
  ["a path in quotes", "open 'src/lib.rs' and \"src/main.rs\"", [{ path: "src/lib.rs" }, { path: "src/main.rs" }]],
  ["a path in a flag", "--config=deploy/prod.toml", [{ path: "deploy/prod.toml" }]],
  ["a compiler error line", "error[E0425]: cannot find value `x` --> src/main.rs:4:13", [{ path: "src/main.rs", line: 4, column: 13 }]],
  ["a TypeScript declaration file", "types/index.d.ts", [{ path: "types/index.d.ts" }]],
  ["Python's __init__.py", "pkg/__init__.py", [{ path: "pkg/__init__.py" }]],
  ["a scoped package inside node_modules", "node_modules/@types/node/index.d.ts", [{ path: "node_modules/@types/node/index.d.ts" }]],
  ["an @2x asset", "assets/logo@2x.png", [{ path: "assets/logo@2x.png" }]],
  ["a path with non-ASCII letters", "docs/café/menü.md", [{ path: "docs/café/menü.md" }]],
  ["several mentions in one message", "Edited src/a.rs:1 and tests/b.rs#L2 (see Cargo.toml)", [{ path: "src/a.rs", line: 1 }, { path: "tests/b.rs", line: 2 }, { path: "Cargo.toml" }]],
  ["a path after an ellipsis", "…then src/lib.rs…", [{ path: "src/lib.rs" }]],
  ["a date-named file", "notes/2024/01/02.md", [{ path: "notes/2024/01/02.md" }]],
  ["a path inside a Go module directory", "internal/server/http.go:88", [{ path: "internal/server/http.go", line: 88 }]],
];

const NEGATIVE: [name: string, text: string][] = [
  ["an https URL", "https://x.com/a/b.rs"],
  ["an http URL with a line-like port", "http://localhost:8080/src/a.rs"],
  ["a www address", "www.x.com/a.rs"],
  ["a git remote", "git@github.com:a/b.git"],
  ["a file URL", "file:///etc/hosts.txt"],
  ["a semantic version", "version 1.2.3"],
  ["a v-prefixed version", "v2.0.1"],
  ["a package at a version", "node@22.1.0"],
  ["a pre-release version", "1.0.0-beta.2"],
  ["an ISO date", "2024-01-02"],
  ["a time", "12:30:45"],
  ["a slashed date", "10/12/2024"],
  ["an aspect ratio", "16:9"],
  ["a fraction", "3/4 of them"],
  ["e.g.", "use a tool, e.g. this one"],
  ["i.e.", "the first, i.e. the oldest"],
  ["etc.", "files, folders, etc."],
  ["an e-mail address", "write to a.b@c.com"],
  ["numbers with units", "10.5MB in 3.5GHz and 1.5x at 2.5s"],
  ["an ellipsis", "wait…"],
  ["an IP address and port", "127.0.0.1:8080"],
  ["an IP address with a mask", "10.0.0.0/24"],
  ["localhost with a port", "localhost:3000"],
  ["a host with a port", "db.example.com:5432"],
  ["an npm scope", "@scope/pkg"],
  ["a scoped package with a file", "@scope/pkg/index.js"],
  ["a sentence-ending word", "All done."],
  ["JSON escapes", 'printf("done\\n\\t")'],
  ["a doubly escaped Windows path", '"C:\\\\Users\\\\ada"'],
  ["an escaped newline between words", "line1\\nline2"],
  ["a directory only", "look in src/api/"],
  ["and/or", "read and/or write"],
  ["a library name", "built with Node.js and Vue.js"],
  ["a method call", "call console.log or process.env"],
  ["a domain without a scheme", "github.com/rust-lang/rust.rs"],
  ["a glob", "src/**/*.rs"],
  ["a URL query", "src/a.rs?raw=1"],
  ["prose with dots", "Mr. Smith vs. the world"],
  ["an extension on its own", "files ending in .rs"],
  ["a javascript: link", "[x](javascript:alert(1))"],
  ["a line zero", "src/a.rs:0"],
];

describe("detectPaths finds", () => {
  it.each(POSITIVE)("%s", (_name, text, mentions) => {
    expect(found(text)).toEqual(expected(mentions));
  });
});

describe("detectPaths ignores", () => {
  it.each(NEGATIVE)("%s", (_name, text) => {
    expect(found(text)).toEqual([]);
  });
});

describe("detectPaths offsets", () => {
  it("cover the path and its location suffix, not the sentence's punctuation", () => {
    const text = "See src/lib.rs:12.";
    const [mention] = detectPaths(text);
    expect(mention).toMatchObject({ start: 4, end: 17 });
    expect(text.slice(mention!.start, mention!.end)).toBe("src/lib.rs:12");
  });

  it("include a line named in words", () => {
    const text = "Open ui/src/App.tsx (line 12) now";
    const [mention] = detectPaths(text);
    expect(text.slice(mention!.start, mention!.end)).toBe("ui/src/App.tsx (line 12)");
  });

  it("leave the wrapping of bold text out", () => {
    const text = "**src/lib.rs**";
    expect(detectPaths(text)).toEqual([{ start: 2, end: 12, path: "src/lib.rs", line: null, column: null, endLine: null }]);
  });

  it("count UTF-16 code units, as JavaScript strings do", () => {
    const text = "🚀 src/a.rs";
    const [mention] = detectPaths(text);
    expect(mention).toMatchObject({ start: 3, end: 11 });
    expect(text.slice(mention!.start, mention!.end)).toBe("src/a.rs");
  });

  it("find each of several mentions where it is", () => {
    const text = "a.rs b/c.ts";
    expect(detectPaths(text).map(({ start, end }) => [start, end])).toEqual([
      [0, 4],
      [5, 11],
    ]);
  });
});

describe("parsePathTarget", () => {
  it.each([
    ["src/api/upload.rs#L42", { path: "src/api/upload.rs", line: 42 }],
    ["./docs/a.md", { path: "./docs/a.md", line: null }],
    ["src/caf%C3%A9.rs", { path: "src/café.rs", line: null }],
  ])("reads %s as a workspace path", (target, result) => {
    expect(parsePathTarget(target)).toMatchObject(result);
  });

  it.each(["javascript:alert(1)", "JaVaScRiPt:alert(1)", "file:///etc/passwd.txt", "https://x.com/a.rs", "mailto:a@b.c", "data:text/html,x", "#install", "src/my%20file.rs", "java\tscript:x", "%E0%A4%A"])(
    "rejects %s",
    (target) => {
      expect(parsePathTarget(target)).toBeNull();
    },
  );
});

describe("trailingLine", () => {
  it("reads the forms agents use", () => {
    expect(trailingLine(" (line 4)")).toEqual({ line: 4, endLine: null, length: 9 });
    expect(trailingLine(", lines 4-6 and")).toMatchObject({ line: 4, endLine: 6 });
    expect(trailingLine(" at line 4")).toMatchObject({ line: 4 });
    expect(trailingLine(". Line 4")).toBeNull();
    expect(trailingLine(" lines up")).toBeNull();
  });
});
