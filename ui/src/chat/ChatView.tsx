import { useUiStore } from "../shared/store";
import { Button, ChatIcon, EmptyState, PlusIcon, SendIcon } from "../shared/ui";

const AGENTS = ["Claude Code", "Codex", "Gemini CLI", "Mistral Vibe", "OpenCode"];

export function ChatView() {
  const setNewWorkspaceOpen = useUiStore((state) => state.setNewWorkspaceOpen);
  return (
    <section className="view chat" aria-labelledby="chat-heading">
      <header className="view__header">
        <h1 id="chat-heading" className="view__title">
          Chat
        </h1>
      </header>
      <div className="chat__body">
        <EmptyState
          icon={<ChatIcon width={28} height={28} />}
          title="Pick or create a workspace to start a chat with an agent"
          data-testid="main-empty"
          actions={
            <Button variant="primary" data-testid="main-new-workspace" onClick={() => setNewWorkspaceOpen(true)}>
              <PlusIcon /> New workspace
            </Button>
          }
        >
          <p>
            SAM runs the coding agents you already use, in a workspace on a machine you own: a folder on this computer
            or a VM in your own cloud.
          </p>
          <ul className="agent-list" aria-label="Supported agents">
            {AGENTS.map((agent) => (
              <li key={agent} className="agent-chip">
                {agent}
              </li>
            ))}
          </ul>
        </EmptyState>
      </div>
      <form className="composer" aria-label="Message composer" onSubmit={(event) => event.preventDefault()}>
        <label htmlFor="composer-input" className="sr-only">
          Message
        </label>
        <textarea
          id="composer-input"
          className="composer__input"
          rows={2}
          disabled
          placeholder="Select a workspace to start chatting"
          aria-describedby="composer-note"
        />
        <button type="submit" className="button button--primary composer__send" disabled>
          <SendIcon /> <span>Send</span>
        </button>
        <p id="composer-note" className="sr-only">
          The composer is disabled until a workspace is selected.
        </p>
      </form>
    </section>
  );
}
