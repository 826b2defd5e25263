import { PlusIcon } from "../shared/ui";

export function IconButtonPlus({ label, onClick }: { label: string; onClick: () => void }) {
  return (
    <button type="button" className="icon-button" aria-label={label} title={label} onClick={onClick} data-testid="chat-new">
      <PlusIcon />
    </button>
  );
}
