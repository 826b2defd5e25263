// Renders chat pieces inside a PathLinksProvider (and a query client, which the quick view uses).
import { QueryClientProvider } from "@tanstack/react-query";
import { render } from "@testing-library/react";
import type { ReactNode } from "react";
import { createQueryClient } from "../../shared/queries";
import type { ChatApi } from "../api";
import { PathLinksProvider } from "../paths/PathLinks";

export const PROJECT_FILES: Record<string, string | null> = {
  "src/main.rs": "fn main() {\n    println!(\"hi\");\n}\n",
  "src/lib.rs": Array.from({ length: 60 }, (_, i) => `// line ${i + 1}`).join("\n"),
  "src/api/upload.rs": "pub fn upload() {}\n",
  "Cargo.toml": "[package]\nname = \"api\"\n",
  "README.md": "# api\n",
  "assets/logo.png": null,
};

export function PathLinksHarness({ api, workspaceId = "w-api", agentWorking = false, children }: { api: ChatApi; workspaceId?: string | null; agentWorking?: boolean; children: ReactNode }) {
  return (
    <PathLinksProvider api={api} workspaceId={workspaceId} agentWorking={agentWorking}>
      {children}
    </PathLinksProvider>
  );
}

/** `render`, inside a PathLinksProvider for `api`; `rerender` keeps the provider (and its cache). */
export function renderWithPathLinks(api: ChatApi, ui: ReactNode, options: { workspaceId?: string | null; agentWorking?: boolean } = {}) {
  const client = createQueryClient();
  const wrap = (node: ReactNode, agentWorking = options.agentWorking) => (
    <QueryClientProvider client={client}>
      <PathLinksHarness api={api} workspaceId={options.workspaceId} agentWorking={agentWorking}>
        {node}
      </PathLinksHarness>
    </QueryClientProvider>
  );
  const view = render(wrap(ui));
  return { ...view, rerender: (node: ReactNode, agentWorking?: boolean) => view.rerender(wrap(node, agentWorking)) };
}
