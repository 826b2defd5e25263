// Where the session's work went: the commit on its branch, the push, and the pull request with
// its state (read again from GitHub when the card shows, so a merge shows as merged).
import { useQuery } from "@tanstack/react-query";
import type { ShippedItem } from "./reducer";

const STATE_LABEL: Record<string, string> = { open: "open", closed: "closed", merged: "merged" };

type ShippedCardProps = {
  item: ShippedItem;
  onOpenLink: (url: string) => void;
  /** Reads a pull request's state now; absent: the state recorded when it was shipped. */
  pullRequestState?: (url: string) => Promise<string>;
};

export function ShippedCard({ item, onOpenLink, pullRequestState }: ShippedCardProps) {
  const pull = item.pullRequest;
  const live = useQuery({
    queryKey: ["pull-request-state", pull?.url],
    queryFn: () => pullRequestState!(pull!.url),
    enabled: pull !== null && pullRequestState !== undefined,
    staleTime: 60_000,
    retry: false,
  });
  const state = live.data ?? pull?.state ?? null;
  return (
    <div className="chat-shipped" data-testid="chat-shipped">
      <p className="chat-line">
        Shipped <code>{item.commit.slice(0, 10)}</code> on <code>{item.branch}</code>
        {item.pushed ? ", pushed" : item.pushError ? "" : ", not pushed"}
        {pull ? "" : "."}
        {pull ? (
          <>
            {" · "}
            <a
              href={pull.url}
              className="chat-shipped__link"
              data-testid="chat-shipped-pr"
              onClick={(event) => {
                event.preventDefault();
                onOpenLink(pull.url);
              }}
            >
              Pull request #{pull.number}
            </a>{" "}
            {state ? (
              <span className={`chat-shipped__state chat-shipped__state--${STATE_LABEL[state] ?? "other"}`} data-testid="chat-shipped-state">
                {STATE_LABEL[state] ?? state}
              </span>
            ) : null}
          </>
        ) : null}
      </p>
      {item.pushError ? (
        <p className="chat-line chat-line--warning" role="note">
          The push failed: {item.pushError}
        </p>
      ) : null}
    </div>
  );
}
