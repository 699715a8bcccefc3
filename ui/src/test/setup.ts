import { afterEach } from "vitest";
import { cleanup } from "@testing-library/react";
import { clearMocks } from "@tauri-apps/api/mocks";

// jsdom has no WebCrypto on window in every version; Tauri's mocks need getRandomValues.
if (!window.crypto?.getRandomValues) {
  Object.defineProperty(window, "crypto", { value: globalThis.crypto });
}

afterEach(() => {
  cleanup();
  clearMocks();
});
