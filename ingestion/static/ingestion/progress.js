// Live ingestion progress in the admin's document list: pushed over /ws/ingestion/progress/, and asked
// for every few seconds while something is still running (a worker may not share the channel layer).
(function () {
  "use strict";
  function cells() { return Array.from(document.querySelectorAll(".faro-progress[data-document]")); }
  function label(event) {
    if (event.status !== "processing") { return event.status_label; }
    // A bare percentage ("0%") only repeats the progress beside it.
    var detail = event.detail && !/^\s*\d+\s*%?\s*$/.test(event.detail) ? " (" + event.detail + ")" : "";
    return event.status_label + " · " + event.stage_label + " " + event.progress + "%" + detail;
  }
  function setCell(row, name, value) {
    var cell = row && row.querySelector(".field-" + name);
    if (cell && value !== undefined && value !== null) { cell.textContent = value === "" ? "-" : String(value); }
  }
  function update(event) {
    cells().forEach(function (cell) {
      if (Number(cell.dataset.document) !== event.document_id) { return; }
      cell.dataset.status = event.status;
      cell.textContent = label(event);
      // Every live column of the row, not only the status: the reason, language and passages.
      var row = cell.closest("tr");
      setCell(row, "status_reason", event.reason || "");
      if (event.status !== "processing") {  // a running stage does not know them yet
        setCell(row, "language", event.language);
        setCell(row, "chunk_count", event.chunk_count);
      }
    });
  }
  function unsettled() {
    return cells().filter(function (c) { return c.dataset.status === "pending" || c.dataset.status === "processing"; })
      .map(function (c) { return Number(c.dataset.document); });
  }
  function connect() {
    if (!cells().length) { return; }
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + "/ws/ingestion/progress/");
    var timer = null;
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.type === "progress") { update(event); }
    };
    socket.onopen = function () {
      timer = window.setInterval(function () {
        var ids = unsettled();
        if (ids.length) { socket.send(JSON.stringify({ type: "refresh", documents: ids })); }
      }, 3000);
    };
    socket.onclose = function (event) {
      if (timer) { window.clearInterval(timer); }
      if (event.code !== 4403) { window.setTimeout(connect, 5000); }
    };
  }
  document.addEventListener("DOMContentLoaded", connect);
})();
