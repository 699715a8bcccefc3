import { useState } from "react";

export function CopyButton({ text, testid = "copy-key" }: { text: string; testid?: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button type="button" className="secondary small" data-testid={testid} onClick={() => {
      void navigator.clipboard?.writeText(text).then(() => {
        setCopied(true);
        setTimeout(() => setCopied(false), 1500);
      });
    }}>
      {copied ? "Copied" : "Copy"}
    </button>
  );
}
