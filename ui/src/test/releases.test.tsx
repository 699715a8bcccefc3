import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { mockIPC, mockWindows } from "@tauri-apps/api/mocks";
import { Releases } from "../pages/Releases";
import type { Product } from "../bindings/Product";
import type { Release } from "../bindings/Release";
import type { Added } from "../bindings/Added";

const PRODUCT: Product = {
  id: 3, name: "KM Updates Demo", description: "", sku: null, envato_item_ids: [], activation_limit: 1, license_type: "regular",
  status: "active", license_count: 1, created_at: "2026-12-01T10:00:00Z", updated_at: "2026-12-01T10:00:00Z", auto_created: false, needs_review: false,
};

function release(id: number, version: string, status: Release["status"], extra: Partial<Release> = {}): Release {
  return {
    id, product_id: 3, product_name: PRODUCT.name, version, channel: "stable", status, rollout: 100, changelog: `* ${version}`,
    upgrade_notice: "", requires: "6.0", tested: "6.1", requires_php: "7.4", sha256: "ab".repeat(32), size: 20480,
    created_at: "2026-12-01T10:00:00Z", released_at: status === "draft" ? null : "2026-12-01T10:00:00Z", yanked_at: null, yank_reason: null,
    meta: { name: PRODUCT.name, homepage: "", author: "", author_homepage: "", description: "", changelog_all: "" }, ...extra,
  };
}

function wrap(ui: React.ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(<QueryClientProvider client={client}>{ui}</QueryClientProvider>);
}

/** A seller's IPC: two releases, then whatever the calls change. */
function seller(releases: Release[], opts: { publicUrl?: boolean; addFails?: { code: string; message: string } } = {}) {
  const calls: [string, Record<string, unknown>][] = [];
  mockWindows("main");
  mockIPC((cmd, args) => {
    calls.push([cmd, args as Record<string, unknown>]);
    switch (cmd) {
      case "releases_list": return releases.map((r) => ({ ...r }));
      case "product_updates_get": return { product_id: 3, product_name: PRODUCT.name, slug: "km-updates-demo", kind: "wp-plugin", require_activation: false };
      case "product_updates_set": return { product_id: 3, product_name: PRODUCT.name, slug: (args as { slug: string }).slug, kind: "wp-plugin", require_activation: true };
      case "update_snippet": return {
        puc: "PucFactory::buildUpdateChecker('https://licenses.example.com/updates/km-updates-demo/info.json'",
        edd: "new EDD_SL_Plugin_Updater( 'https://licenses.example.com/edd'", metadata_url: "https://licenses.example.com/updates/km-updates-demo/info.json",
        problem: opts.publicUrl === false ? "Set the licensing server's public address (Settings › Licensing server)." : null,
      };
      case "release_add": {
        if (opts.addFails) throw { ...opts.addFails };
        const r = release(9, "1.2.0", "draft", { channel: (args as { request: { channel: Release["channel"] } }).request.channel });
        releases.unshift(r);
        const added: Added = { release: r, folder: "km-updates-demo", kind: "wp-plugin", version_from: "km-updates-demo/km-updates-demo.php" };
        return added;
      }
      case "release_edit": return release(9, "1.2.0", "draft");
      case "release_publish": {
        const r = releases.find((x) => x.id === (args as { id: number }).id)!;
        r.status = "published";
        r.rollout = ((args as { rollout: number | null }).rollout ?? 100);
        return r;
      }
      case "release_yank": {
        const r = releases.find((x) => x.id === (args as { id: number }).id)!;
        Object.assign(r, { status: "yanked", yank_reason: (args as { reason: string }).reason });
        return r;
      }
      case "release_rerelease": {
        const r = release(10, (args as { version: string }).version, "published");
        releases.unshift(r);
        return { release: r, folder: "km-updates-demo", kind: "wp-plugin", version_from: "km-updates-demo/km-updates-demo.php" };
      }
    }
  }, { shouldMockEvents: true });
  return calls;
}

describe("Releases", () => {
  it("adds a zip as a draft, shows what was read, and publishes it with the chosen rollout and changelog", async () => {
    const calls = seller([release(2, "1.1.0", "published"), release(1, "1.0.0", "published")]);
    wrap(<Releases product={PRODUCT} />);
    const rows = await screen.findAllByTestId("release-row");
    expect(rows.map((r) => r.getAttribute("data-version"))).toEqual(["1.1.0", "1.0.0"]);
    await userEvent.type(screen.getByTestId("release-path"), "/home/seller/km-updates-demo-1.2.0.zip");
    await userEvent.selectOptions(screen.getByTestId("release-channel"), "beta");
    await userEvent.click(screen.getByTestId("release-add"));
    const read = await screen.findByTestId("read-from-zip");
    expect(screen.getByTestId("read-version-from").textContent).toBe("km-updates-demo/km-updates-demo.php");
    expect(read.textContent).toContain("WordPress 6.0, PHP 7.4");
    const add = calls.find(([c]) => c === "release_add")!;
    expect(add[1]).toEqual({ path: "/home/seller/km-updates-demo-1.2.0.zip", request: { product_id: 3, channel: "beta", publish: false } });
    const changelog = screen.getByTestId("release-changelog");
    await userEvent.clear(changelog);
    await userEvent.type(changelog, "* Faster checkout.");
    fireEvent.change(screen.getByTestId("release-rollout"), { target: { value: "50" } });
    expect(screen.getByTestId("read-from-zip").textContent).toContain("Rollout: 50% of licenses");
    await userEvent.click(screen.getByTestId("release-publish"));
    await waitFor(() => expect(calls.some(([c]) => c === "release_publish")).toBe(true));
    expect(calls.find(([c]) => c === "release_edit")![1]).toEqual({ id: 9, edit: { changelog: "* Faster checkout." } });
    expect(calls.find(([c]) => c === "release_publish")![1]).toEqual({ id: 9, rollout: 50 });
    await waitFor(() => expect(screen.queryByTestId("read-from-zip")).toBeNull());
  });

  it("shows a refused zip's message and code, and adds nothing", async () => {
    seller([], { addFails: { code: "release.wrong_folder", message: "The zip's folder is “other”, but this product's update slug is “km-updates-demo”." } });
    wrap(<Releases product={PRODUCT} />);
    await userEvent.type(await screen.findByTestId("release-path"), "/tmp/other.zip");
    await userEvent.click(screen.getByTestId("release-add"));
    const error = await screen.findByTestId("release-error");
    expect(error.getAttribute("data-code")).toBe("release.wrong_folder");
    expect(error.textContent).toContain("update slug");
    expect(screen.queryByTestId("read-from-zip")).toBeNull();
  });

  it("yanks with a reason and re-releases as a newer version", async () => {
    const calls = seller([release(2, "1.1.0", "published"), release(1, "1.0.0", "published")]);
    wrap(<Releases product={PRODUCT} />);
    const [newest] = await screen.findAllByTestId("release-row");
    await userEvent.click(within(newest).getByTestId("row-yank"));
    expect((screen.getByTestId("row-confirm") as HTMLButtonElement).disabled).toBe(true);
    await userEvent.type(screen.getByTestId("yank-reason"), "breaks checkout");
    await userEvent.click(screen.getByTestId("row-confirm"));
    await waitFor(() => expect(calls.find(([c]) => c === "release_yank")?.[1]).toEqual({ id: 2, reason: "breaks checkout" }));
    const older = (await screen.findAllByTestId("release-row")).find((r) => r.getAttribute("data-version") === "1.0.0")!;
    await userEvent.click(within(older).getByTestId("row-rerelease"));
    await userEvent.type(screen.getByTestId("rerelease-version"), "1.1.1");
    await userEvent.click(screen.getByTestId("row-confirm"));
    await waitFor(() => expect(calls.find(([c]) => c === "release_rerelease")?.[1]).toEqual({ id: 1, version: "1.1.1", publish: true }));
    await waitFor(() => expect(screen.getAllByTestId("release-row")[0].getAttribute("data-version")).toBe("1.1.1"));
  });

  it("gives the snippet to paste, and says when the server has no public address", async () => {
    seller([], { publicUrl: false });
    wrap(<Releases product={PRODUCT} />);
    expect((await screen.findByTestId("snippet-code")).textContent).toContain("/updates/km-updates-demo/info.json");
    expect(screen.getByTestId("snippet-problem").textContent).toContain("public address");
    await userEvent.click(screen.getByTestId("snippet-edd"));
    expect(screen.getByTestId("snippet-code").textContent).toContain("EDD_SL_Plugin_Updater");
  });

  it("saves the update settings", async () => {
    const calls = seller([]);
    wrap(<Releases product={PRODUCT} />);
    expect(((await screen.findByTestId("update-slug")) as HTMLInputElement).value).toBe("km-updates-demo");
    await userEvent.click(screen.getByTestId("require-activation"));
    await userEvent.click(screen.getByTestId("update-settings-save"));
    await waitFor(() => expect(calls.find(([c]) => c === "product_updates_set")?.[1]).toEqual({ productId: 3, slug: "km-updates-demo", kind: "wp-plugin", requireActivation: true }));
  });
});
