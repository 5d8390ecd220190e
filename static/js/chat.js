// Faro chat: one websocket, answers streamed token by token, then replaced by the server's checked,
// sanitised HTML (Markdown and citation chips). Everything else is built from text nodes, never innerHTML.
(function () {
  "use strict";
  const data = (id) => JSON.parse(document.getElementById(id).textContent);
  const strings = data("faro-i18n");
  const urls = data("faro-urls");
  const messages = document.getElementById("messages");
  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const stopButton = document.getElementById("stop");
  const status = document.getElementById("status");
  const list = document.getElementById("conversation-list");
  const sidebar = document.getElementById("sidebar");
  const csrf = form.querySelector("[name=csrfmiddlewaretoken]").value;
  let socket = null;
  let conversationId = data("faro-conversation") || null;
  let current = null; // the answer being streamed: {article, body, text, sources}
  let retryDelay = 500;

  const urlFor = (name, id) => urls[name].replace("/0/", `/${id}/`);

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // --- socket ------------------------------------------------------------------------------------
  function connect() {
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${window.location.host}/ws/chat/`);
    socket.addEventListener("open", () => { status.textContent = ""; retryDelay = 500; setBusy(false); });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) {
        // Signed out, expired or disabled (the server accepts and closes with 4401, whether the socket was
        // open or just opening): never reconnect, send the person to sign in and back to this page.
        status.textContent = strings.unauthenticated;
        send.disabled = true;
        const next = encodeURIComponent(window.location.pathname + window.location.search);
        window.setTimeout(() => window.location.assign(`${urls.login}?next=${next}`), 1500);
        return;
      }
      if (current) {
        // The answer in flight is lost with the socket: say so, and let the next question through.
        current.article.dataset.state = "error";
        current.body.textContent = `${current.text}\n\n${strings.disconnected}`;
        current = null;
      }
      setBusy(false);
      send.disabled = true;
      status.textContent = strings.disconnected;
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 8000);
    });
    socket.addEventListener("message", (event) => handle(JSON.parse(event.data)));
  }

  function setBusy(busy) {
    send.hidden = busy;
    stopButton.hidden = !busy;
    send.disabled = busy || !socket || socket.readyState !== WebSocket.OPEN;
  }

  // --- messages ----------------------------------------------------------------------------------
  function bubble(role, text) {
    const article = el("article", `message ${role}`);
    const body = el("div", "body", text);
    article.appendChild(body);
    messages.appendChild(article);
    article.scrollIntoView({ block: "end" });
    return { article, body };
  }

  function renderSources(article, sources, heading) {
    if (!sources.length) return;
    const box = el("aside", "sources");
    box.appendChild(el("h2", "", heading));
    const ol = el("ol");
    for (const source of sources) {
      const item = el("li");
      item.value = source.n;
      item.id = `${article.id}-source-${source.n}`;
      const link = el("a", "source-link", source.title);
      link.href = source.url;
      const where = el("span", "where", source.location ? ` · ${source.location}` : "");
      item.append(link, where, el("blockquote", "", source.quote));
      ol.appendChild(item);
    }
    box.appendChild(ol);
    article.appendChild(box);
  }

  function confidenceBadge(answer) {
    const badge = el("span", "badge");
    if (answer.refused) {
      badge.classList.add("refused");
      badge.textContent = strings.refused;
    } else {
      badge.classList.add(`confidence-${answer.confidence}`);
      badge.textContent = strings[`confidence_${answer.confidence}`];
    }
    badge.dataset.confidence = answer.confidence;
    return badge;
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
  }

  function feedbackControls(article, answer) {
    const bar = el("div", "actions");
    const copy = el("button", "action copy", strings.copy);
    copy.type = "button";
    copy.addEventListener("click", async () => {
      const text = answer.text;
      try { await navigator.clipboard.writeText(text); } catch (e) { fallbackCopy(text); }
      copy.textContent = strings.copied;
      setTimeout(() => { copy.textContent = strings.copy; }, 1500);
    });
    const up = el("button", "action vote up", "👍");
    const down = el("button", "action vote down", "👎");
    up.type = down.type = "button";
    up.title = up.ariaLabel = strings.helpful;
    down.title = down.ariaLabel = strings.not_helpful;
    const commentForm = el("form", "feedback-comment");
    commentForm.hidden = true;
    const comment = el("textarea");
    comment.rows = 2;
    comment.maxLength = 2000;
    comment.placeholder = strings.comment_placeholder;
    comment.ariaLabel = strings.comment_placeholder;
    const submit = el("button", "secondary", strings.send_comment);
    submit.type = "submit";
    commentForm.append(comment, submit);
    const thanks = el("span", "thanks");
    thanks.setAttribute("role", "status");
    let rating = answer.feedback ? answer.feedback.rating : 0;
    const show = () => {
      up.setAttribute("aria-pressed", String(rating === 1));
      down.setAttribute("aria-pressed", String(rating === -1));
    };
    const vote = async (value) => {
      rating = value;
      show();
      const response = await postJSON(urlFor("feedback", answer.message_id), { rating, comment: comment.value });
      if (response.ok) {
        commentForm.hidden = false;
        comment.focus();
      }
    };
    up.addEventListener("click", () => vote(1));
    down.addEventListener("click", () => vote(-1));
    commentForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      const response = await postJSON(urlFor("feedback", answer.message_id), { rating, comment: comment.value });
      if (response.ok) { commentForm.hidden = true; thanks.textContent = strings.thanks; input.focus(); }
    });
    comment.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); commentForm.requestSubmit(); }
    });
    if (answer.feedback) comment.value = answer.feedback.comment;
    show();
    bar.append(confidenceBadge(answer), copy, up, down, thanks);
    article.append(bar, commentForm);
  }

  function fallbackCopy(text) {
    const area = el("textarea");
    area.value = text;
    document.body.appendChild(area);
    area.select();
    document.execCommand("copy");
    area.remove();
  }

  // A finished answer: the server's sanitised HTML, its sources, badge and feedback controls.
  function complete(article, body, answer) {
    article.id = `answer-${answer.message_id}`;
    article.dataset.messageId = answer.message_id;
    article.dataset.confidence = answer.confidence;
    article.dataset.refused = String(answer.refused);
    body.innerHTML = answer.html; // sanitised on the server (chatbot/rendering.py)
    if (answer.fallback) article.insertBefore(el("p", "note fallback", strings.fallback), body);
    if (answer.stopped) article.appendChild(el("p", "note stopped", strings.stopped));
    if (answer.unsupported) article.appendChild(el("p", "note unsupported", strings.unsupported));
    feedbackControls(article, answer);
    renderSources(article, answer.sources, answer.refused ? strings.closest : strings.sources);
    article.dataset.state = "done";
  }

  function handle(event) {
    if (event.type === "conversation") {
      if (conversationId !== event.id) addConversation(event.id, event.title);
      conversationId = event.id;
    } else if (event.type === "token" && current) {
      current.text += event.text;
      current.body.textContent = current.text;
    } else if (event.type === "sources" && current) {
      current.sources = event.sources;
    } else if (event.type === "done" && current) {
      current.article.dataset.model = event.model;
      complete(current.article, current.body, { ...event, sources: current.sources, feedback: null });
      finish();
    } else if (event.type === "error") {
      let message = strings[event.code] || event.message;
      if (event.code === "rate_limited") message = strings.rate_limited.replace("{seconds}", event.retry_after);
      if (current) {
        current.article.dataset.state = "error";
        current.body.textContent = `${strings.error}: ${message}`;
      } else {
        status.textContent = message;
      }
      finish(); // the page sends one question at a time, so an error always ends the one it sent
    }
  }

  function finish() {
    current = null;
    setBusy(false);
    input.focus();
  }

  function ask() {
    const question = input.value.trim();
    if (!question || current || !socket || socket.readyState !== WebSocket.OPEN) return;
    const hint = messages.querySelector(".hint");
    if (hint) hint.remove();
    status.textContent = "";
    bubble("user", question);
    const { article, body } = bubble("assistant", "");
    article.dataset.state = "streaming";
    current = { article, body, text: "", sources: [] };
    setBusy(true);
    input.value = "";
    socket.send(JSON.stringify({ type: "ask", conversation: conversationId, question }));
  }

  function stop() {
    if (current && socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "stop" }));
  }

  // --- conversation list -------------------------------------------------------------------------
  function addConversation(id, title) {
    const item = document.getElementById("conversation-item").content.firstElementChild.cloneNode(true);
    item.dataset.id = id;
    const link = item.querySelector(".conversation-link");
    link.href = urlFor("conversation", id);
    link.textContent = title;
    item.querySelector(".rename").dataset.url = urlFor("rename", id);
    item.querySelector(".delete").dataset.url = urlFor("delete", id);
    for (const other of list.querySelectorAll(".conversation.current")) {
      other.classList.remove("current");
      other.querySelector(".conversation-link").removeAttribute("aria-current");
    }
    item.classList.add("current");
    link.setAttribute("aria-current", "page");
    list.prepend(item);
    window.history.replaceState(null, "", link.href);
  }

  function postForm(url, fields) {
    const body = new URLSearchParams(fields);
    return fetch(url, {
      method: "POST",
      headers: { Accept: "application/json", "X-CSRFToken": csrf },
      body,
      credentials: "same-origin",
    });
  }

  function startRename(item) {
    const link = item.querySelector(".conversation-link");
    const field = el("input", "rename-field");
    field.value = link.textContent;
    field.maxLength = 200;
    field.ariaLabel = strings.rename;
    link.hidden = true;
    item.insertBefore(field, link);
    field.focus();
    field.select();
    let done = false;
    const end = async (save) => {
      if (done) return;
      done = true;
      if (save && field.value.trim() && field.value.trim() !== link.textContent) {
        const response = await postForm(item.querySelector(".rename").dataset.url, { title: field.value });
        if (response.ok) link.textContent = (await response.json()).title;
      }
      field.remove();
      link.hidden = false;
      link.focus();
    };
    field.addEventListener("keydown", (event) => {
      if (event.key === "Enter") { event.preventDefault(); end(true); }
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); end(false); }
    });
    field.addEventListener("blur", () => end(true));
  }

  async function remove(item) {
    if (!window.confirm(strings.delete_confirm)) return;
    const response = await postForm(item.querySelector(".delete").dataset.url, {});
    if (!response.ok) return;
    if (Number(item.dataset.id) === conversationId) { window.location.assign(urls.home); return; }
    item.remove();
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const item = button.closest(".conversation");
    if (button.classList.contains("rename")) startRename(item);
    if (button.classList.contains("delete")) remove(item);
  });

  // --- history, keyboard, start ------------------------------------------------------------------
  for (const entry of data("faro-history")) {
    if (entry.role === "user") { bubble("user", entry.text); continue; }
    const { article, body } = bubble("assistant", "");
    complete(article, body, entry);
  }

  document.getElementById("toggle-sidebar").addEventListener("click", (event) => {
    const open = sidebar.classList.toggle("open");
    event.currentTarget.setAttribute("aria-expanded", String(open));
  });
  form.addEventListener("submit", (event) => { event.preventDefault(); ask(); });
  stopButton.addEventListener("click", stop);
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); ask(); }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && current) { event.preventDefault(); stop(); }
  });
  connect();
  input.focus();
})();
