/* mlplab playground: the page's state, shared by its modules (window.mlplabPlayground). */

export const state = {
  meta: null,
  id: null,
  config: null,
  frame: null, // the latest frame
  points: null, // the latest {train, test}, kept across frames without points
  running: false,
  lang: "en",
  ws: null,
  wsRetry: 0,
  queue: Promise.resolve(), // serialises config changes
  renderPending: false,
  netKey: null,
  net: null, // the diagram's elements, see buildNetwork
  plot: null, // mapping canvas pixels -> data units of the output plot
  seenFindings: new Set(),
  tipTarget: null,
  editTarget: null,
  lastMaps: 0,
  expired: null, // the notice of this session's expiry, shown again once a new one is made
  shareForOthers: false, // the link shown under "Share and export": the last one copied
};
window.mlplabPlayground = state; // handy from the console (and the tests)
