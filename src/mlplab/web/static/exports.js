/* mlplab playground: the shareable link and the downloads (model, history, Python snippet). */
import { api, sessionPath } from "./api.js";
import { writeHash } from "./form.js";
import { t } from "./i18n.js";
import { state } from "./state.js";
import { showError, showStatus } from "./status.js";
import { $ } from "./util.js";

// "copy link" (forOthers false): this page's address with the token, for the same user;
// "link for others": without it (see form.js shareLink).
export async function copyShareLink(forOthers) {
  state.shareForOthers = !!forOthers;
  writeHash();
  const input = $("#share-url");
  try {
    await navigator.clipboard.writeText(input.value);
  } catch (e) {
    input.select();
    try {
      document.execCommand("copy");
    } catch (e2) {
      /* leave it selected */
    }
  }
  showStatus(t(forOthers ? "copied_others" : "copied"), true);
}

function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export async function download(path, filename) {
  if (!state.id) return;
  try {
    const res = await api("GET", path);
    saveBlob(await res.blob(), filename);
  } catch (err) {
    showError(err);
  }
}

export async function showSnippet() {
  if (!state.id) return;
  try {
    const res = await api("GET", sessionPath("/export/snippet"));
    const text = await res.text();
    const pre = $("#snippet");
    pre.textContent = text;
    pre.hidden = false;
    let link = $("#snippet-download");
    if (!link) {
      link = document.createElement("button");
      link.type = "button";
      link.id = "snippet-download";
      link.addEventListener("click", () =>
        saveBlob(new Blob([$("#snippet").textContent], { type: "text/x-python" }), "mlplab_playground.py")
      );
      pre.parentNode.insertBefore(link, pre);
    }
    link.textContent = `${t("download")} .py`;
  } catch (err) {
    showError(err);
  }
}
