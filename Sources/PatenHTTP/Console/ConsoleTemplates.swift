// The console's and the rating page's HTML, as Mustache templates (swift-mustache). `{{name}}` escapes HTML; the
// only unescaped values (`{{{...}}}`) are the SVG charts, which `ConsoleCharts` builds from numbers and dates alone.
// No inline script or style: the Content-Security-Policy allows only /console/assets/.

enum ConsoleTemplates {
    static let all: [String: String] = [
        "head": head, "foot": foot, "login": login, "overview": overview, "escalations": escalations,
        "question": question, "incidents": incidents, "incident": incident, "volunteers": volunteers,
        "metrics": metrics, "rating": rating, "message": message, "escalationTable": escalationTable,
    ]

    static let head = """
        <!doctype html>
        <html lang="{{lang}}">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        {{#csrf}}<meta name="csrf-token" content="{{csrf}}">{{/csrf}}
        <title>{{title}} · Paten</title>
        <link rel="stylesheet" href="/console/assets/console.css">
        {{#script}}<script src="/console/assets/console.js" defer></script>{{/script}}
        </head>
        <body>
        {{#signedIn}}
        <header class="bar">
        <a class="brand" href="/console">Paten</a>
        <nav aria-label="Console"><ul>
        {{#nav}}<li><a href="{{href}}"{{#current}} aria-current="page"{{/current}}>{{label}}</a></li>{{/nav}}
        </ul></nav>
        <form method="post" action="/console/logout" class="signout">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <span class="who">{{handle}} · {{role}}</span>
        <button type="submit" id="sign-out">Sign out</button>
        </form>
        </header>
        {{/signedIn}}
        <main id="main">
        {{#flash}}<p class="flash {{kind}}" role="status" id="flash">{{text}}</p>{{/flash}}

        """

    static let foot = """
        </main>
        </body>
        </html>

        """

    static let login = """
        {{> head}}
        <section class="narrow">
        <h1>Sign in to the Paten console</h1>
        <p>Paste a staff or admin access token (<code>paten tokens issue</code>). It is exchanged for a session
        that ends when you sign out, after 12 hours, or as soon as the token is revoked; the token itself is not kept in
        your browser.</p>
        {{#error}}<p class="flash error" role="alert" id="login-error">{{error}}</p>{{/error}}
        <form method="post" action="/console/login" class="stack">
        <input type="hidden" name="csrf" value="{{loginCsrf}}">
        <label for="token">Access token</label>
        <input type="password" id="token" name="token" autocomplete="off" spellcheck="false" required>
        <button type="submit" id="sign-in">Sign in</button>
        </form>
        </section>
        {{> foot}}
        """

    static let overview = """
        {{> head}}
        <h1>Overview</h1>
        <p class="muted">Live: counts and escalations change here as they happen (<span id="live-state">connecting</span>).</p>
        <section class="cards" aria-label="Now">
        <div class="card"><span class="n" data-count="waiting">{{waiting}}</span><span>waiting</span></div>
        <div class="card"><span class="n" data-count="claimed">{{claimed}}</span><span>claimed</span></div>
        <div class="card"><span class="n" data-count="open-escalations">{{openEscalations}}</span><span>open escalations</span></div>
        <div class="card risk"><span class="n" data-count="at-risk">{{atRisk}}</span><span>at risk (SLA warning or breach)</span></div>
        </section>
        <div class="columns">
        <section>
        <h2>Queue by tier and topic</h2>
        <table id="queue"><thead><tr><th scope="col">Tier</th><th scope="col">Topic</th><th scope="col" class="num">Waiting</th><th scope="col" class="num">Claimed</th></tr></thead>
        <tbody>
        {{#queue}}<tr><td>{{tier}}</td><td>{{topic}}</td><td class="num">{{waiting}}</td><td class="num">{{claimed}}</td></tr>{{/queue}}
        {{^queue}}<tr><td colspan="4" class="muted">No questions waiting.</td></tr>{{/queue}}
        </tbody></table>
        </section>
        <section>
        <h2>Unresolved escalations by reason</h2>
        <table id="reasons"><thead><tr><th scope="col">Reason</th><th scope="col" class="num">Open</th><th scope="col" class="num">Acknowledged</th></tr></thead>
        <tbody>
        {{#reasons}}<tr><td>{{reason}}</td><td class="num">{{open}}</td><td class="num">{{acknowledged}}</td></tr>{{/reasons}}
        {{^reasons}}<tr><td colspan="3" class="muted">None.</td></tr>{{/reasons}}
        </tbody></table>
        </section>
        </div>
        <section>
        <h2>Open escalations</h2>
        {{> escalationTable}}
        <p><a href="/console/escalations">All escalations</a></p>
        </section>
        <h2>The last {{chartDays}} days</h2>
        <p class="muted">By day of creation (UTC), as of {{chartsAt}}.</p>
        <div class="charts">
        <figure id="chart-first-response">{{{firstResponseChart}}}<figcaption>First response, median and 90th percentile</figcaption></figure>
        <figure id="chart-csat">{{{csatChart}}}<figcaption>CSAT: share of ratings that are 4 or 5</figcaption></figure>
        <figure id="chart-peer-share">{{{peerShareChart}}}<figcaption>Peer share: resolved with no staff reply</figcaption></figure>
        </div>
        {{> foot}}
        """

    static let escalationTable = """
        <table id="live-escalations" class="escalations">
        <thead><tr><th scope="col">Raised</th><th scope="col">Reason</th><th scope="col">Level</th><th scope="col">State</th><th scope="col">Question</th><th scope="col">Action</th></tr></thead>
        <tbody>
        {{#escalationRows}}
        <tr data-id="{{id}}" data-state="{{state}}">
        <td><time datetime="{{createdAt}}">{{createdShort}}</time></td><td>{{reason}}</td><td>{{level}}</td><td class="state">{{state}}</td>
        <td><a href="/console/questions/{{questionId}}">{{subject}}</a></td>
        <td class="actions">
        {{#canAcknowledge}}<form method="post" action="/console/escalations/{{id}}/acknowledge"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="back" value="{{back}}"><button type="submit" class="ack">Acknowledge</button></form>{{/canAcknowledge}}
        {{#canResolve}}<form method="post" action="/console/escalations/{{id}}/resolve"><input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="back" value="{{back}}"><button type="submit" class="resolve">Resolve</button></form>{{/canResolve}}
        </td>
        </tr>
        {{/escalationRows}}
        </tbody>
        </table>
        {{^escalationRows}}<p class="muted empty-escalations">No escalations here.</p>{{/escalationRows}}
        """

    static let escalations = """
        {{> head}}
        <h1>Escalations</h1>
        <form method="get" action="/console/escalations" class="filters">
        <label>State <select name="state">{{#states}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/states}}</select></label>
        <label>Reason <select name="reason">{{#reasonOptions}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/reasonOptions}}</select></label>
        <label>Level <select name="level">{{#levels}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{label}}</option>{{/levels}}</select></label>
        <button type="submit">Filter</button>
        </form>
        {{> escalationTable}}
        {{> foot}}
        """

    static let question = """
        {{> head}}
        <h1>{{subject}}</h1>
        <dl class="facts">
        <dt>State</dt><dd>{{state}}</dd><dt>Tier</dt><dd>{{tier}}</dd><dt>Topic</dt><dd>{{topic}}</dd>
        <dt>Priority</dt><dd>{{priority}}</dd><dt>Language</dt><dd>{{language}}</dd><dt>Customer</dt><dd>{{customer}}</dd>
        <dt>Asked</dt><dd>{{createdAt}}</dd>{{#holder}}<dt>Held by</dt><dd>{{holder}}</dd>{{/holder}}
        {{#incidentId}}<dt>Incident</dt><dd><a href="/console/incidents/{{incidentId}}">{{incidentId}}</a></dd>{{/incidentId}}
        </dl>
        <div class="columns">
        <section>
        <h2>Messages</h2>
        <ol class="messages">
        {{#messages}}<li class="{{kind}}"><p class="meta">{{author}} · <time datetime="{{at}}">{{at}}</time></p><p class="body">{{body}}</p></li>{{/messages}}
        </ol>
        </section>
        <section>
        <h2>Timeline</h2>
        <ol class="timeline" id="timeline">
        {{#events}}<li><time datetime="{{at}}">{{at}}</time> <strong>{{type}}</strong> {{#actor}}by {{actor}}{{/actor}} {{#details}}<span class="muted">{{details}}</span>{{/details}}</li>{{/events}}
        </ol>
        </section>
        </div>
        {{> foot}}
        """

    static let incidents = """
        {{> head}}
        <h1>Incidents</h1>
        <p><a href="/console/incidents"{{#openOnly}} aria-current="true"{{/openOnly}}>Open</a> · <a href="/console/incidents?state=all"{{^openOnly}} aria-current="true"{{/openOnly}}>All</a></p>
        <table id="incidents"><thead><tr><th scope="col">Opened</th><th scope="col">Title</th><th scope="col">State</th><th scope="col" class="num">Questions</th><th scope="col" class="num">Open</th><th scope="col">Latest update</th></tr></thead>
        <tbody>
        {{#rows}}<tr><td>{{openedAt}}</td><td><a href="/console/incidents/{{id}}">{{title}}</a></td><td>{{state}}</td><td class="num">{{questions}}</td><td class="num">{{open}}</td><td>{{latest}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="6" class="muted">No incidents.</td></tr>{{/rows}}
        </tbody></table>
        {{> foot}}
        """

    static let incident = """
        {{> head}}
        <h1>{{title}}</h1>
        <dl class="facts">
        <dt>State</dt><dd>{{state}}</dd><dt>Opened</dt><dd>{{openedAt}}</dd>
        <dt>Seen</dt><dd>{{observed}} in {{windowMinutes}} min against {{expected}} expected (p = {{probability}})</dd>
        <dt>Top terms</dt><dd>{{terms}}</dd><dt>Questions</dt><dd>{{questionCount}} ({{openQuestions}} open)</dd>
        </dl>
        {{#isOpen}}
        <section>
        <h2>Post an update</h2>
        <p class="muted">Sent to every open linked question's customer as a staff reply, and to questions that join later.</p>
        <form method="post" action="/console/incidents/{{id}}/updates" class="stack">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="update-body">Update</label>
        <textarea id="update-body" name="body" rows="4" maxlength="4000" required></textarea>
        <button type="submit" id="post-update">Post update</button>
        </form>
        </section>
        {{/isOpen}}
        <div class="columns">
        <section>
        <h2>Updates</h2>
        <ol class="messages">{{#updates}}<li><p class="meta">{{kind}} · {{at}}</p><p class="body">{{body}}</p></li>{{/updates}}</ol>
        {{^updates}}<p class="muted">No updates yet.</p>{{/updates}}
        </section>
        <section>
        <h2>Questions</h2>
        <ul>{{#questions}}<li><a href="/console/questions/{{id}}">{{subject}}</a> <span class="muted">{{state}} · {{how}}</span></li>{{/questions}}</ul>
        </section>
        </div>
        {{> foot}}
        """

    static let volunteers = """
        {{> head}}
        <h1>Volunteers</h1>
        <section class="cards" aria-label="Levels">
        {{#levels}}<div class="card"><span class="n">{{count}}</span><span>{{level}}</span></div>{{/levels}}
        <div class="card risk"><span class="n" id="paused-count">{{paused}}</span><span>paused</span></div>
        </section>
        <table id="volunteers"><thead><tr><th scope="col">Volunteer</th><th scope="col">Level</th><th scope="col" class="num">Points (all)</th><th scope="col" class="num">This week</th><th scope="col" class="num">Accepted answers</th><th scope="col">Presence</th><th scope="col" class="num">Holding</th><th scope="col">Status</th></tr></thead>
        <tbody>
        {{#rows}}
        <tr data-handle="{{handle}}"><td>{{handle}}</td><td>{{level}}</td><td class="num">{{points}}</td><td class="num">{{week}}</td><td class="num">{{accepted}}</td><td>{{presence}}</td><td class="num">{{holding}}</td>
        <td>{{#paused}}<form method="post" action="/console/volunteers/{{id}}/resume" class="inline"><input type="hidden" name="csrf" value="{{csrf}}"><label>Paused. Note <input name="note" required maxlength="2000"></label> <button type="submit">Resume</button></form>{{/paused}}{{^paused}}active{{/paused}}</td></tr>
        {{/rows}}
        {{^rows}}<tr><td colspan="8" class="muted">No volunteers yet.</td></tr>{{/rows}}
        </tbody></table>
        {{> foot}}
        """

    static let metrics = """
        {{> head}}
        <h1>Metrics</h1>
        <p>Questions created from {{from}} to {{to}} (UTC). <a class="button" id="export-csv" href="/console/metrics/export?format=csv">Export CSV</a> <a class="button" id="export-json" href="/console/metrics/export?format=json">Export JSON</a></p>
        {{#tables}}
        <h2>By {{name}}</h2>
        <table class="metrics"><thead><tr><th scope="col">{{name}}</th><th scope="col" class="num">Questions</th><th scope="col" class="num">Resolved</th><th scope="col" class="num">Escalated</th><th scope="col" class="num">First response p50</th><th scope="col" class="num">p90</th><th scope="col" class="num">Peer share</th><th scope="col" class="num">CSAT</th><th scope="col" class="num">Ratings</th></tr></thead>
        <tbody>{{#rows}}<tr><td>{{key}}</td><td class="num">{{questions}}</td><td class="num">{{resolved}}</td><td class="num">{{escalated}}</td><td class="num">{{p50}}</td><td class="num">{{p90}}</td><td class="num">{{peer}}</td><td class="num">{{csat}}</td><td class="num">{{ratings}}</td></tr>{{/rows}}
        {{^rows}}<tr><td colspan="9" class="muted">No questions in this period.</td></tr>{{/rows}}</tbody></table>
        {{/tables}}
        <h2>The programme's value by month</h2>
        <table id="value"><thead><tr><th scope="col">Month</th><th scope="col" class="num">Resolved</th><th scope="col" class="num">Without staff</th><th scope="col" class="num">Staff cost saved</th><th scope="col" class="num">Paid out</th><th scope="col" class="num">Net</th><th scope="col" class="num">Volunteer CSAT</th><th scope="col" class="num">Staff CSAT</th></tr></thead>
        <tbody>{{#value}}<tr><td>{{month}}</td><td class="num">{{resolved}}</td><td class="num">{{withoutStaff}}</td><td class="num">{{saved}}</td><td class="num">{{paid}}</td><td class="num">{{net}}</td><td class="num">{{volunteerCsat}}</td><td class="num">{{staffCsat}}</td></tr>{{/value}}
        {{^value}}<tr><td colspan="8" class="muted">No months yet.</td></tr>{{/value}}</tbody></table>
        {{> foot}}
        """

    /// A page that only says something: an error, or a refusal, in words.
    static let message = """
        {{> head}}
        <section class="narrow">
        <h1>{{heading}}</h1>
        <p id="message">{{text}}</p>
        {{#link}}<p><a href="{{href}}">{{label}}</a></p>{{/link}}
        </section>
        {{> foot}}
        """

    static let rating = """
        {{> head}}
        <section class="narrow rating">
        <h1>{{heading}}</h1>
        {{#subject}}<p class="subject">{{t.about}} <strong id="subject">{{subject}}</strong></p>{{/subject}}
        {{#error}}<p class="flash error" role="alert" id="rating-error">{{error}}</p>{{/error}}
        {{#form}}
        <form method="post" class="stack" id="rating-form">
        <fieldset>
        <legend>{{t.scoreQuestion}}</legend>
        <div class="scores">
        {{#scores}}<label><input type="radio" name="score" value="{{value}}" required{{#checked}} checked{{/checked}}> {{value}} <span class="muted">{{label}}</span></label>{{/scores}}
        </div>
        </fieldset>
        <fieldset>
        <legend>{{t.solvedQuestion}}</legend>
        <label><input type="radio" name="solved" value="yes"{{#solvedYes}} checked{{/solvedYes}}> {{t.yes}}</label>
        <label><input type="radio" name="solved" value="no"{{#solvedNo}} checked{{/solvedNo}}> {{t.no}}</label>
        </fieldset>
        <label for="comment">{{t.comment}}</label>
        <textarea id="comment" name="comment" rows="4" maxlength="2000">{{comment}}</textarea>
        <button type="submit" id="send-rating">{{t.send}}</button>
        </form>
        {{/form}}
        {{#text}}<p id="message">{{text}}</p>{{/text}}
        </section>
        {{> foot}}
        """
}
