// Syntax highlighting with highlight.js through lowlight (hast out, no HTML strings), for the
// chat's code blocks and the changes panel's diffs. One instance, the languages agents touch most.
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

export const lowlight = createLowlight({ bash, c, cpp, css, diff, go, ini, java, javascript, json, markdown, python, rust, shell, sql, typescript, xml, yaml });
lowlight.registerAlias({ ini: ["toml"], bash: ["sh", "zsh", "console"], typescript: ["ts", "tsx"], javascript: ["js", "jsx"] });

const BY_EXTENSION: Record<string, string> = {
  rs: "rust", py: "python", ts: "typescript", tsx: "typescript", js: "javascript", jsx: "javascript", mjs: "javascript",
  cjs: "javascript", json: "json", go: "go", c: "c", h: "c", cc: "cpp", cpp: "cpp", hpp: "cpp", java: "java", css: "css",
  html: "xml", xml: "xml", svg: "xml", md: "markdown", sh: "bash", bash: "bash", zsh: "bash", toml: "ini", ini: "ini",
  yaml: "yaml", yml: "yaml", sql: "sql",
};

/** The highlight language for a file name, or null. */
export function languageForPath(path: string): string | null {
  const name = path.split("/").pop() ?? "";
  if (name === "Dockerfile" || name === "Makefile") return null;
  const extension = name.includes(".") ? name.split(".").pop()!.toLowerCase() : "";
  const language = BY_EXTENSION[extension];
  return language && lowlight.registered(language) ? language : null;
}

/** A hast tree as lowlight returns it. */
export type HastNode = { type: string; tagName?: string; value?: string; properties?: { className?: unknown }; children?: HastNode[] };
