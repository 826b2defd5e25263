// Settings → Editor: where file paths from the chat and "go to file" open.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type ChangeEvent } from "react";
import type { EditorChoice, EditorSettings } from "../bindings";
import { editorGet, editorSet } from "../shared/ipc";
import { Button, ErrorAlert } from "../shared/ui";
import { RemoteEditing } from "./RemoteEditing";
import { SettingsSection } from "./SettingsSection";

const EDITOR_KEY = ["editor"] as const;

/** One option value per choice. */
function valueOf(choice: EditorChoice): string {
  switch (choice.kind) {
    case "editor":
      return `editor:${choice.id}`;
    case "custom":
      return "custom";
    default:
      return choice.kind;
  }
}

function choiceOf(value: string, settings: EditorSettings): EditorChoice | null {
  if (value === "custom") return null; // chosen with its command below
  return settings.detected.find((editor) => valueOf(editor.choice) === value)?.choice ?? (value === "auto" ? { kind: "auto" } : null);
}

export function EditorSection() {
  const client = useQueryClient();
  const settings = useQuery({ queryKey: EDITOR_KEY, queryFn: () => editorGet() });
  const save = useMutation({
    mutationFn: (choice: EditorChoice) => editorSet(choice),
    onSuccess: (saved) => client.setQueryData(EDITOR_KEY, saved),
  });
  const [customOpen, setCustomOpen] = useState(false);
  const [command, setCommand] = useState<string | null>(null);

  const data = settings.data;
  const current = data ? valueOf(data.choice) : "auto";
  const automatic = data?.detected.find((editor) => editor.choice.kind !== "custom");
  const showCustom = customOpen || current === "custom";
  const customText = command ?? (data?.choice.kind === "custom" ? data.choice.argv.join("\n") : "");

  function onChange(event: ChangeEvent<HTMLSelectElement>) {
    if (!data) return;
    const value = event.target.value;
    if (value === "custom") {
      setCustomOpen(true);
      return;
    }
    setCustomOpen(false);
    const choice = choiceOf(value, data);
    if (choice) save.mutate(choice);
  }

  function saveCustom() {
    const argv = customText
      .split("\n")
      .map((line) => line.trim())
      .filter((line) => line !== "");
    save.mutate({ kind: "custom", argv });
  }

  return (
    <SettingsSection id="editor" title="Editor">
      <div className="field">
        <label htmlFor="editor-select" className="field__label">
          Open files in
        </label>
        <select id="editor-select" className="select" data-testid="editor-select" value={showCustom ? "custom" : current} onChange={onChange} disabled={!data || save.isPending} aria-describedby="editor-hint">
          <option value="auto">Automatic{automatic ? ` (${automatic.name})` : " (none found: the quick view)"}</option>
          {data?.detected.map((editor) => (
            <option key={valueOf(editor.choice)} value={valueOf(editor.choice)}>
              {editor.name}
              {editor.kind === "terminal" ? " (in a terminal)" : ""}
              {editor.opensAtLine ? "" : " (not at the line)"}
            </option>
          ))}
          <option value="custom">A command of my own…</option>
        </select>
        <p id="editor-hint" className="field__hint muted small">
          File paths in the chat and Ctrl+P open here, at the line the agent named. Cloud workspaces open as a read-only copy.
        </p>
      </div>
      {showCustom ? (
        <div className="field">
          <label htmlFor="editor-command" className="field__label">
            Command, one argument per line
          </label>
          <textarea
            id="editor-command"
            className="input"
            rows={3}
            value={customText}
            onChange={(event) => setCommand(event.target.value)}
            placeholder={"myeditor\n--goto\n{file}:{line}:{column}"}
            aria-describedby="editor-command-hint"
          />
          <p id="editor-command-hint" className="field__hint muted small">
            {"{file}"}, {"{line}"} and {"{column}"} are filled in. Each line is passed as one argument; no shell is involved.
          </p>
          <Button className="button--small" onClick={saveCustom} disabled={save.isPending || customText.trim() === ""}>
            Use this command
          </Button>
        </div>
      ) : null}
      {settings.isError ? <ErrorAlert error={settings.error} context="Could not look for editors" compact /> : null}
      {save.isError ? <ErrorAlert error={save.error} context="Could not save the editor" compact /> : null}
      <RemoteEditing />
    </SettingsSection>
  );
}
