import { useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState } from "react";
import type { ChatApi } from "./api";

const DEBOUNCE_MS = 250;

/** Full-text search across every chat; a result opens its chat at that event. */
export function ChatSearch({ api, onOpen }: { api: ChatApi; onOpen: (sessionId: string, seq: number) => void }) {
  const [text, setText] = useState("");
  const [query, setQuery] = useState("");
  const inputId = useId();
  const resultsId = useId();

  useEffect(() => {
    const timer = setTimeout(() => setQuery(text.trim()), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const enabled = query.length >= 2;
  const results = useQuery({ queryKey: ["chat", "search", query], queryFn: () => api.search(query), enabled });
  const showing = enabled && text.trim().length >= 2;

  function clear() {
    setText("");
    setQuery("");
  }

  return (
    <div className="chat-search" role="search">
      <label htmlFor={inputId} className="sr-only">
        Search chats
      </label>
      <input
        id={inputId}
        type="search"
        className="input input--compact chat-search__input"
        placeholder="Search chats"
        value={text}
        aria-controls={showing ? resultsId : undefined}
        onChange={(event) => setText(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === "Escape" && text) {
            event.preventDefault();
            event.stopPropagation();
            clear();
          }
        }}
      />
      {showing ? (
        <div id={resultsId} className="chat-search__results" data-testid="chat-search-results">
          {results.isError ? (
            <p className="field__error small" role="alert">
              Search failed: {results.error.message}
            </p>
          ) : results.data === undefined ? (
            <p className="muted small">Searching…</p>
          ) : results.data.length === 0 ? (
            <p className="muted small" role="status">
              Nothing found.
            </p>
          ) : (
            <ul className="chat-search__list" aria-label="Search results">
              {results.data.map((hit) => (
                <li key={`${hit.session_id}:${hit.seq}`}>
                  <button
                    type="button"
                    className="chat-search__hit"
                    onClick={() => {
                      onOpen(hit.session_id, hit.seq);
                      clear();
                    }}
                  >
                    <span className="chat-search__title">{hit.session_title}</span>
                    <span className="chat-search__snippet">{hit.snippet}</span>
                  </button>
                </li>
              ))}
            </ul>
          )}
        </div>
      ) : null}
    </div>
  );
}
