// Live sync progress in the admin's source list, as the document list follows uploads: pushed over
// /ws/ingestion/progress/ (the "sources" topic, sources/progress.py), and asked for every few seconds while
// a sync is queued or running (a worker may not share the channel layer).
(function () {
  "use strict";
  var UNSETTLED = ["queued", "running"];
  function cells() { return Array.from(document.querySelectorAll(".faro-source[data-source]")); }
  function setCell(row, name, value) {
    var cell = row && row.querySelector(".field-" + name);
    if (cell && value !== undefined && value !== null) { cell.textContent = value === "" ? "-" : String(value); }
  }
  function update(event) {
    cells().forEach(function (cell) {
      if (Number(cell.dataset.source) !== event.source_id) { return; }
      cell.dataset.status = event.status;
      cell.textContent = event.text;
      cell.title = event.reason || "";
      var row = cell.closest("tr");
      setCell(row, "counts_display", event.counts_text);
      setCell(row, "last_finished_at", event.finished_label);
      setCell(row, "next_sync_at", event.next_label);
    });
  }
  function unsettled() {
    return cells().filter(function (c) { return UNSETTLED.indexOf(c.dataset.status) >= 0; })
      .map(function (c) { return Number(c.dataset.source); });
  }
  function connect() {
    if (!cells().length) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/ingestion/progress/");
    var timer = null;
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.type === "source_progress") { update(event); }
    };
    socket.onopen = function () {
      timer = window.setInterval(function () {
        var ids = unsettled();
        if (ids.length) { socket.send(JSON.stringify({ type: "refresh", sources: ids })); }
      }, 3000);
    };
    socket.onclose = function (event) {
      if (timer) { window.clearInterval(timer); }
      if (event.code !== 4403) { window.setTimeout(connect, 5000); }
    };
  }
  document.addEventListener("DOMContentLoaded", connect);
})();
