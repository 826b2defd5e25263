// Which collapsible parts of the transcript are open. Kept above the virtualised rows, so a
// row scrolled out of view and back keeps its state.
import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from "react";

type Expansion = { toggled: ReadonlySet<string>; toggle: (id: string) => void };

const ExpansionContext = createContext<Expansion | null>(null);

export function ExpansionProvider({ children }: { children: ReactNode }) {
  const [toggled, setToggled] = useState<ReadonlySet<string>>(() => new Set());
  const toggle = useCallback((id: string) => {
    setToggled((previous) => {
      const next = new Set(previous);
      if (!next.delete(id)) next.add(id);
      return next;
    });
  }, []);
  const value = useMemo(() => ({ toggled, toggle }), [toggled, toggle]);
  return <ExpansionContext.Provider value={value}>{children}</ExpansionContext.Provider>;
}

/** Open or closed (starting at `initial`), and the toggle. Works without a provider too (local state). */
export function useExpanded(id: string, initial = false): [boolean, () => void] {
  const context = useContext(ExpansionContext);
  const [local, setLocal] = useState(initial);
  if (!context) return [local, () => setLocal((open) => !open)];
  return [context.toggled.has(id) ? !initial : initial, () => context.toggle(id)];
}
