// The console's only stylesheet and script, served from the binary at /console/assets/ (no CDN, no build step).
// The script is progressive: every page works without it; with it, the overview follows /console/live.

enum ConsoleAssets {
    static let css = """
        :root { --ink: #1d2430; --muted: #5b6678; --line: #d9dee7; --bg: #f6f7fa; --card: #fff; --accent: #1f5fbf;
          --risk: #b3261e; --ok: #1e7d32; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--ink); background: var(--bg); line-height: 1.45; }
        main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
        .bar { display: flex; flex-wrap: wrap; align-items: center; gap: 1rem; padding: .6rem 1.25rem;
          background: #14213d; color: #fff; }
        .bar a { color: #fff; text-decoration: none; }
        .bar .brand { font-weight: 700; font-size: 1.1rem; }
        .bar nav ul { display: flex; gap: .9rem; list-style: none; margin: 0; padding: 0; flex-wrap: wrap; }
        .bar nav a[aria-current] { border-bottom: 2px solid #fca311; }
        .bar .signout { margin-left: auto; display: flex; gap: .6rem; align-items: center; }
        .who { opacity: .85; }
        h1 { font-size: 1.5rem; margin: .8rem 0; }
        h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
        .muted { color: var(--muted); }
        .narrow { max-width: 34rem; margin: 2rem auto; background: var(--card); padding: 1.2rem 1.5rem;
          border: 1px solid var(--line); border-radius: 8px; }
        .stack { display: flex; flex-direction: column; gap: .6rem; }
        input, select, textarea, button { font: inherit; }
        input[type=password], input:not([type]), textarea, select { padding: .45rem .5rem; border: 1px solid #9aa5b5;
          border-radius: 4px; background: #fff; }
        button, .button { background: var(--accent); color: #fff; border: 0; border-radius: 4px; padding: .4rem .8rem;
          cursor: pointer; text-decoration: none; display: inline-block; }
        button:focus-visible, a:focus-visible, input:focus-visible, textarea:focus-visible { outline: 3px solid #fca311;
          outline-offset: 2px; }
        .bar button { background: #2b3d66; }
        button.resolve { background: var(--ok); }
        .flash { padding: .5rem .75rem; border-radius: 4px; background: #e7f0ff; border: 1px solid #b8cff5; }
        .flash.error { background: #fdecea; border-color: #f3b8b3; color: #7a1a14; }
        .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(10rem, 1fr)); gap: .75rem; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .75rem 1rem;
          display: flex; flex-direction: column; }
        .card .n { font-size: 1.9rem; font-weight: 700; }
        .card.risk .n { color: var(--risk); }
        .columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 1.5rem; }
        table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); }
        th, td { text-align: left; padding: .4rem .55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { background: #eef1f6; font-weight: 600; }
        .num { text-align: right; font-variant-numeric: tabular-nums; }
        td.actions form { display: inline; }
        td.actions { white-space: nowrap; }
        td time { white-space: nowrap; }
        tr.fresh { animation: fresh 3s ease-out; }
        @keyframes fresh { from { background: #fff3c4; } to { background: transparent; } }
        .filters { display: flex; gap: 1rem; flex-wrap: wrap; align-items: end; margin-bottom: 1rem; }
        .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(20rem, 1fr)); gap: 1rem; }
        figure { margin: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: .6rem; }
        figcaption { color: var(--muted); font-size: .9rem; }
        svg.chart { width: 100%; height: auto; }
        svg.chart .axis { stroke: #9aa5b5; stroke-width: 1; }
        svg.chart .grid { stroke: #e3e7ee; stroke-width: 1; }
        svg.chart text { font-size: 10px; fill: #5b6678; }
        svg.chart .p50 { fill: none; stroke: #1f5fbf; stroke-width: 2; }
        svg.chart .p90 { fill: none; stroke: #fca311; stroke-width: 2; }
        svg.chart .bar { fill: #1f5fbf; }
        svg.chart .dot50 { fill: #1f5fbf; }
        svg.chart .dot90 { fill: #fca311; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; background: var(--card);
          border: 1px solid var(--line); padding: .75rem 1rem; border-radius: 8px; }
        dl.facts dt { font-weight: 600; }
        dl.facts dd { margin: 0; }
        ol.messages, ol.timeline { list-style: none; padding: 0; }
        ol.messages li { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: .5rem .75rem;
          margin-bottom: .5rem; }
        ol.messages li.helper { border-left: 4px solid var(--accent); }
        .meta { color: var(--muted); font-size: .85rem; margin: 0 0 .2rem; }
        .body { white-space: pre-wrap; margin: 0; }
        ol.timeline li { padding: .25rem 0; border-bottom: 1px dashed var(--line); }
        fieldset { border: 1px solid var(--line); border-radius: 6px; }
        .scores { display: flex; flex-direction: column; gap: .3rem; }
        .rating .subject { font-size: 1.05rem; }

        """

    static let js = """
        // Paten console: follows /console/live (one shared feed on the server) and keeps the overview current.
        "use strict";
        (function () {
          var table = document.getElementById("live-escalations");
          var state = document.getElementById("live-state");
          if (!table || !window.EventSource) { return; }
          var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
          var body = table.tBodies[0];
          function setState(text) { if (state) { state.textContent = text; } }
          function form(action, label, cls) {
            var f = document.createElement("form");
            f.method = "post";
            f.action = action;
            var token = document.createElement("input");
            token.type = "hidden"; token.name = "csrf"; token.value = csrf;
            var back = document.createElement("input");
            back.type = "hidden"; back.name = "back"; back.value = "/console";
            var button = document.createElement("button");
            button.type = "submit"; button.className = cls; button.textContent = label;
            f.appendChild(token); f.appendChild(back); f.appendChild(button);
            return f;
          }
          function row(e) {
            var tr = document.createElement("tr");
            tr.setAttribute("data-id", e.id);
            tr.setAttribute("data-state", e.state);
            var when = document.createElement("time");
            when.dateTime = e.created_at;
            when.textContent = e.created_at.replace("T", " ").slice(5, 16);
            var link = document.createElement("a");
            link.href = "/console/questions/" + encodeURIComponent(e.question_id);
            link.textContent = e.question_subject || e.question_id;
            var cells = [when, e.reason, String(e.level), e.state, link, null];
            cells.forEach(function (value, index) {
              var td = document.createElement("td");
              if (index === 3) { td.className = "state"; }
              if (index === 5) {
                td.className = "actions";
                var base = "/console/escalations/" + encodeURIComponent(e.id);
                if (e.state === "open") { td.appendChild(form(base + "/acknowledge", "Acknowledge", "ack")); }
                if (e.state !== "resolved") { td.appendChild(form(base + "/resolve", "Resolve", "resolve")); }
              } else if (typeof value === "string") {
                td.textContent = value;
              } else {
                td.appendChild(value);
              }
              tr.appendChild(td);
            });
            return tr;
          }
          function apply(e) {
            var old = body.querySelector('tr[data-id="' + CSS.escape(e.id) + '"]');
            if (e.state === "resolved") { if (old) { old.remove(); } return; }
            var fresh = row(e);
            fresh.className = "fresh";
            if (old) { body.replaceChild(fresh, old); } else { body.insertBefore(fresh, body.firstChild); }
            var empty = document.querySelector(".empty-escalations");
            if (empty) { empty.remove(); }
          }
          var source = new EventSource("/console/live");
          source.onopen = function () { setState("live"); };
          source.onerror = function () { setState("reconnecting"); };
          ["escalation.created", "escalation.acknowledged", "escalation.resolved"].forEach(function (kind) {
            source.addEventListener(kind, function (message) { apply(JSON.parse(message.data)); });
          });
          function fill(id, rows, keys, empty) {
            var target = document.getElementById(id);
            if (!target) { return; }
            var tbody = target.tBodies[0];
            while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
            if (rows.length === 0) {
              var none = document.createElement("tr");
              var cell = document.createElement("td");
              cell.colSpan = keys.length; cell.className = "muted"; cell.textContent = empty;
              none.appendChild(cell); tbody.appendChild(none);
              return;
            }
            rows.forEach(function (row) {
              var tr = document.createElement("tr");
              keys.forEach(function (key, index) {
                var td = document.createElement("td");
                if (index >= keys.length - 2 && typeof row[key] === "number") { td.className = "num"; }
                td.textContent = String(row[key]);
                tr.appendChild(td);
              });
              tbody.appendChild(tr);
            });
          }
          source.addEventListener("counts", function (message) {
            var figures = JSON.parse(message.data);
            Object.keys(figures).forEach(function (key) {
              var cell = document.querySelector('[data-count="' + key + '"]');
              if (cell && typeof figures[key] === "number") { cell.textContent = String(figures[key]); }
            });
            fill("queue", figures.queue || [], ["tier", "topic", "waiting", "claimed"], "No questions waiting.");
            fill("reasons", figures.reasons || [], ["reason", "open", "acknowledged"], "None.");
          });
          source.addEventListener("ended", function () { source.close(); setState("signed out: reload to sign in"); });
        })();

        """
}
