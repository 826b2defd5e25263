// Agent text as Markdown, through an allowlist. react-markdown builds React elements (never
// innerHTML); raw HTML in the text stays text; links go through `onOpenLink` rather than
// navigating the webview; remote images are not loaded.
import bash from "highlight.js/lib/languages/bash";
import c from "highlight.js/lib/languages/c";
import cpp from "highlight.js/lib/languages/cpp";
import css from "highlight.js/lib/languages/css";
import diff from "highlight.js/lib/languages/diff";
import go from "highlight.js/lib/languages/go";
import ini from "highlight.js/lib/languages/ini";
import java from "highlight.js/lib/languages/java";
import javascript from "highlight.js/lib/languages/javascript";
import json from "highlight.js/lib/languages/json";
import markdown from "highlight.js/lib/languages/markdown";
import python from "highlight.js/lib/languages/python";
import rust from "highlight.js/lib/languages/rust";
import shell from "highlight.js/lib/languages/shell";
import sql from "highlight.js/lib/languages/sql";
import typescript from "highlight.js/lib/languages/typescript";
import xml from "highlight.js/lib/languages/xml";
import yaml from "highlight.js/lib/languages/yaml";
import { createLowlight } from "lowlight";
import { memo, useMemo, useRef, type ReactNode } from "react";
import ReactMarkdown, { type Components, type ExtraProps } from "react-markdown";
import remarkGfm from "remark-gfm";
import { COPY_LABEL, useCopy } from "./useCopy";

const lowlight = createLowlight({ bash, c, cpp, css, diff, go, ini, java, javascript, json, markdown, python, rust, shell, sql, typescript, xml, yaml });
lowlight.registerAlias({ ini: ["toml"], bash: ["sh", "zsh", "console"], typescript: ["ts", "tsx"], javascript: ["js", "jsx"] });

/** Past this, code is shown plain: highlighting it would stall the transcript. */
const HIGHLIGHT_LIMIT = 100_000;

/** The only elements Markdown may produce; anything else is unwrapped to its text. */
const ALLOWED_ELEMENTS = [
  "p", "br", "hr", "strong", "em", "del", "code", "pre", "span", "blockquote",
  "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "li", "input",
  "table", "thead", "tbody", "tr", "th", "td", "a", "img", "sup", "sub", "section",
];

const SAFE_PROTOCOL = /^(https?|mailto):/i;

/** Keeps http(s) and mailto URLs; anything else (javascript:, data:, file:, relative…) becomes "". */
export function safeUrl(url: string): string {
  const trimmed = url.trim();
  // Control characters and whitespace inside a scheme are how filters get fooled ("java\tscript:").
  if (/[\u0000-\u001f\u007f]/.test(trimmed)) return "";
  return SAFE_PROTOCOL.test(trimmed) ? trimmed : "";
}

type HastNode = { type: string; tagName?: string; value?: string; properties?: Record<string, unknown>; children?: HastNode[] };

function textOf(node: HastNode | undefined): string {
  if (!node) return "";
  if (node.type === "text") return node.value ?? "";
  return (node.children ?? []).map(textOf).join("");
}

function languageOf(code: HastNode | undefined): string | null {
  const classes = code?.properties?.className;
  if (!Array.isArray(classes)) return null;
  for (const value of classes) {
    if (typeof value === "string" && value.startsWith("language-")) return value.slice("language-".length);
  }
  return null;
}

function codeChild(pre: HastNode | undefined): HastNode | undefined {
  return pre?.children?.find((child) => child.type === "element" && child.tagName === "code");
}

/** Highlights fenced code whose language is registered; the result is plain hast spans. */
function rehypeLowlight() {
  return (tree: HastNode) => {
    const visit = (node: HastNode) => {
      if (node.type === "element" && node.tagName === "pre") {
        const code = codeChild(node);
        const language = languageOf(code);
        if (code && language && lowlight.registered(language)) {
          const text = textOf(code);
          if (text.length <= HIGHLIGHT_LIMIT) {
            code.children = lowlight.highlight(language, text).children as HastNode[];
            const className = Array.isArray(code.properties?.className) ? code.properties.className : [];
            code.properties = { ...code.properties, className: ["hljs", ...className] };
          }
        }
        return;
      }
      node.children?.forEach(visit);
    };
    visit(tree);
  };
}

function CopyButton({ text, label = "Copy code" }: { text: string; label?: string }) {
  const [state, copy] = useCopy();
  return (
    <button type="button" className="chat-mini-button" aria-label={state === "idle" ? label : COPY_LABEL[state]} onClick={() => copy(text)}>
      <span aria-hidden="true">{COPY_LABEL[state]}</span>
    </button>
  );
}

function CodeBlock({ node, children }: { node?: ExtraProps["node"]; children?: ReactNode }) {
  const code = codeChild(node as HastNode | undefined);
  const language = languageOf(code);
  return (
    <div className="md-code">
      <div className="md-code__bar">
        <span className="md-code__language">{language ?? "text"}</span>
        <CopyButton text={textOf(code).replace(/\n$/, "")} />
      </div>
      <pre className="md-code__pre">{children}</pre>
    </div>
  );
}

type MarkdownProps = {
  text: string;
  /** Called with an http(s) or mailto URL when a link is activated. */
  onOpenLink?: (url: string) => void;
  /** Off while a message streams in: code is highlighted once it is complete. */
  highlight?: boolean;
};

export const Markdown = memo(function Markdown({ text, onOpenLink, highlight = true }: MarkdownProps) {
  // The components stay the same across renders; the latest callback is read at click time.
  const openRef = useRef(onOpenLink);
  openRef.current = onOpenLink;

  const components = useMemo<Components>(
    () => ({
      a: ({ href, children }) => {
        const url = href ? safeUrl(href) : "";
        if (!url) return <span className="md-link md-link--blocked">{children}</span>;
        return (
          <a
            href={url}
            className="md-link"
            title={url}
            rel="noreferrer noopener"
            onClick={(event) => {
              event.preventDefault();
              openRef.current?.(url);
            }}
            onAuxClick={(event) => event.preventDefault()}
          >
            {children}
          </a>
        );
      },
      img: ({ src, alt }) => {
        const url = typeof src === "string" ? safeUrl(src) : "";
        return (
          <span className="md-image" data-testid="md-image">
            <span aria-hidden="true">🖼 </span>
            {alt ? <span className="md-image__alt">{alt}</span> : <span className="md-image__alt">Image</span>}
            {url ? <span className="md-image__url"> ({url})</span> : null}
          </span>
        );
      },
      pre: ({ node, children }) => <CodeBlock node={node}>{children}</CodeBlock>,
      input: ({ type, checked }) =>
        type === "checkbox" ? <input type="checkbox" checked={Boolean(checked)} disabled readOnly aria-label={checked ? "Done" : "Not done"} /> : null,
      table: ({ children }) => (
        <div className="md-table">
          <table>{children}</table>
        </div>
      ),
    }),
    [],
  );

  const rehypePlugins = useMemo(() => (highlight ? [rehypeLowlight] : []), [highlight]);

  return (
    <div className="md">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={rehypePlugins}
        allowedElements={ALLOWED_ELEMENTS}
        unwrapDisallowed
        urlTransform={safeUrl}
        components={components}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
});
