// Faro chat: one websocket, answers streamed token by token, sources as numbered citations.
(function () {
  "use strict";
  const strings = JSON.parse(document.getElementById("faro-i18n").textContent);
  const messages = document.getElementById("messages");
  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const status = document.getElementById("status");
  let socket = null;
  let conversationId = null;
  let current = null; // the answer being streamed: {article, body, text, sources}
  let retryDelay = 500;

  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}/ws/chat/`);
    socket.addEventListener("open", () => { status.textContent = ""; retryDelay = 500; send.disabled = false; });
    socket.addEventListener("close", () => {
      if (current) {
        // The answer in flight is lost with the socket: say so, and let the next question through.
        current.article.dataset.state = "error";
        current.body.textContent = `${current.text}\n\n${strings.disconnected}`;
        current = null;
      }
      send.disabled = true;
      status.textContent = strings.disconnected;
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 8000);
    });
    socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
  }

  function bubble(role, text) {
    const article = document.createElement("article");
    article.className = `message ${role}`;
    const body = document.createElement("div");
    body.className = "body";
    body.textContent = text;
    article.appendChild(body);
    messages.appendChild(article);
    article.scrollIntoView({ block: "end" });
    return { article, body };
  }

  // Answer text with [n] turned into links to the cited passage; built from DOM nodes, never innerHTML.
  function renderCited(body, text, sources) {
    const byN = new Map(sources.map((s) => [s.n, s]));
    body.textContent = "";
    for (const part of text.split(/(\[\d+\])/)) {
      const match = /^\[(\d+)\]$/.exec(part);
      const source = match && byN.get(Number(match[1]));
      if (source) {
        const link = document.createElement("a");
        link.href = source.url;
        link.className = "cite";
        link.textContent = `[${source.n}]`;
        link.title = `${source.title} — ${source.location}`;
        body.appendChild(link);
      } else {
        body.appendChild(document.createTextNode(part));
      }
    }
  }

  function renderSources(article, sources) {
    if (!sources.length) return;
    const box = document.createElement("aside");
    box.className = "sources";
    const heading = document.createElement("h2");
    heading.textContent = strings.sources;
    box.appendChild(heading);
    const list = document.createElement("ol");
    for (const source of sources) {
      const item = document.createElement("li");
      item.value = source.n;
      const link = document.createElement("a");
      link.href = source.url;
      link.className = "source-link";
      link.textContent = source.title;
      const where = document.createElement("span");
      where.className = "where";
      where.textContent = source.location ? ` · ${source.location}` : "";
      const quote = document.createElement("blockquote");
      quote.textContent = source.quote;
      item.append(link, where, quote);
      list.appendChild(item);
    }
    box.appendChild(list);
    article.appendChild(box);
  }

  function handle(event) {
    if (event.type === "conversation") {
      conversationId = event.id;
    } else if (event.type === "token" && current) {
      current.text += event.text;
      current.body.textContent = current.text;
    } else if (event.type === "sources" && current) {
      current.sources = event.sources;
    } else if (event.type === "done" && current) {
      renderCited(current.body, current.text, current.sources);
      renderSources(current.article, current.sources);
      current.article.dataset.state = "done";
      current.article.dataset.model = event.model;
      if (event.fallback) {
        const note = document.createElement("p");
        note.className = "fallback";
        note.textContent = strings.fallback;
        current.article.insertBefore(note, current.body);
      }
      finish();
    } else if (event.type === "error") {
      if (current) { current.article.dataset.state = "error"; current.body.textContent = `${strings.error}: ${event.message}`; }
      else { status.textContent = event.message; }
      finish();
    }
  }

  function finish() {
    current = null;
    send.disabled = !socket || socket.readyState !== WebSocket.OPEN;
    input.focus();
  }

  function ask() {
    const question = input.value.trim();
    if (!question || current || !socket || socket.readyState !== WebSocket.OPEN) return;
    bubble("user", question);
    const { article, body } = bubble("assistant", "");
    article.dataset.state = "streaming";
    current = { article, body, text: "", sources: [] };
    send.disabled = true;
    input.value = "";
    socket.send(JSON.stringify({ type: "ask", conversation: conversationId, question }));
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); ask(); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); ask(); }
  });
  connect();
})();
