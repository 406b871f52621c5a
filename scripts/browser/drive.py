"""The console and the rating page in a real browser: headless Chromium driven by Selenium (scripts/browser.sh runs it
once per database). Sets data up over the HTTP API with the admin token, then walks the pages as a customer and as
staff. Each check is printed as `check<TAB>name<TAB>expected<TAB>actual` for browser.sh to count; anything else is
printed as is. Usage: drive.py DB BASE_URL ADMIN_TOKEN SCREENSHOT_DIR
"""
import json
import os
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from patenapi import call  # noqa: E402

from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

db, base, admin, shots = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
WAIT = 10  # seconds for any page change


def check(name, expected, actual):
    clean = lambda value: str(value).replace("\t", " ").replace("\n", " ")  # noqa: E731
    print(f"check\t{name}\t{clean(expected)}\t{clean(actual)}", flush=True)
    return expected == actual


def say(text):
    print(text, flush=True)


def api(method, path, token, body=None):
    status, answer = call(base, method, path, token, body)
    if status >= 300:
        raise RuntimeError(f"{method} {path}: HTTP {status} {answer}")
    return answer


# ---- plain HTTP (no redirects followed) for headers, statuses and the CSRF refusal


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


plain = urllib.request.build_opener(NoRedirect)


def fetch(method, path, headers=None, body=None):
    """(status, headers, text) without following redirects."""
    request = urllib.request.Request(base + path, data=body, method=method, headers=headers or {})
    try:
        with plain.open(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def set_cookies(headers):
    """name -> the whole Set-Cookie line."""
    return {line.split("=", 1)[0].strip(): line for line in headers.get_all("Set-Cookie") or []}


def form_login(token):
    """Signs in as the login form does (its CSRF cookie and hidden value); (status, headers, text) of the POST."""
    status, headers, text = fetch("GET", "/console/login")
    login_cookie = set_cookies(headers)["paten_login"].split(";", 1)[0].split("=", 1)[1]
    marker = 'name="csrf" value="'
    hidden = text[text.index(marker) + len(marker):].split('"', 1)[0]
    body = urllib.parse.urlencode({"csrf": hidden, "token": token}).encode()
    return fetch(
        "POST", "/console/login",
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"paten_login={login_cookie}"}, body,
    )


# ---- the browser


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--lang=en-US"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_window_size(1280, 900)
    driver.set_page_load_timeout(30)
    return driver


def shot(driver, step):
    path = os.path.join(shots, f"{db}-{step}.png")
    driver.save_screenshot(path)
    say(f"screenshot {path}")


def wait(driver, condition, what, seconds=WAIT):
    """Waits for condition(driver) to be truthy; returns it, or None (and prints what) after the timeout."""
    try:
        return WebDriverWait(driver, seconds, poll_frequency=0.1).until(condition)
    except TimeoutException:
        say(f"timed out after {seconds} s waiting for {what} (at {driver.current_url})")
        return None


def text_of(driver, css):
    """The first match's text; None when there is none. A page that is being replaced (after a form was sent) is read
    again rather than failing with a stale element."""
    for _ in range(20):
        try:
            found = driver.find_elements(By.CSS_SELECTOR, css)
            return found[0].text.strip() if found else None
        except StaleElementReferenceException:
            time.sleep(0.05)
    return None


def heading(driver):
    return text_of(driver, "h1")


def path_of(driver):
    parts = urllib.parse.urlsplit(driver.current_url)
    return parts.path + ("?" + parts.query if parts.query else "")


# ---- data


def account(handle, role, **extra):
    helper = api("POST", "/v1/helpers", admin, {"handle": handle, "role": role, **extra})
    return helper["id"], api("POST", f"/v1/helpers/{helper['id']}/tokens", admin, {"label": "browser test"})["token"]


def ask(staff, subject, body, language=None):
    question = {"subject": subject, "body": body, "customer": {"id": f"c-{time.time_ns()}", "name": "Ann Customer"}}
    if language:
        question["language"] = language
    return api("POST", "/v1/questions", staff, question)


def rated_events(staff, question_id):
    detail = api("GET", f"/v1/questions/{question_id}", staff)
    return detail, [event for event in detail["timeline"] if event["type"] == "question.rated"]


def rating_path(staff, question_id):
    detail = api("GET", f"/v1/questions/{question_id}", staff)
    url = detail.get("rating_url") or ""
    check("the resolved question has a rating link on this server", True, url.startswith(base + "/v1/ratings/rt_"))
    return urllib.parse.urlsplit(url).path


def escalation(staff, escalation_id, question_id):
    for item in api("GET", f"/v1/escalations?question_id={question_id}", staff)["escalations"]:
        if item["id"] == escalation_id:
            return item
    return None


# ---- the walk


def rating_english(driver, staff, volunteer):
    say("rating page (English), the answer a volunteer gave")
    subject = "Roaming in Spain does not work"
    question = ask(staff, subject, "Since yesterday I have no data in Madrid.")
    api("POST", f"/v1/questions/{question['id']}/claim", volunteer)
    api("POST", f"/v1/questions/{question['id']}/replies", volunteer, {"body": "Turn on data roaming in Settings."})
    api("POST", f"/v1/questions/{question['id']}/resolve", volunteer, {})
    path = rating_path(staff, question["id"])

    driver.get(base + path)
    check("the link shows the form", True, bool(wait(driver, lambda d: d.find_elements(By.ID, "rating-form"), "#rating-form")))
    check("its heading", "Rate the answer", heading(driver))
    check("the question's subject in #subject", subject, text_of(driver, "#subject"))
    scores = [e.get_attribute("value") for e in driver.find_elements(By.CSS_SELECTOR, "#rating-form input[name=score]")]
    check("radio buttons for scores 1 to 5", ["1", "2", "3", "4", "5"], scores)
    solved = [e.get_attribute("value") for e in driver.find_elements(By.CSS_SELECTOR, "#rating-form input[name=solved]")]
    check("radio buttons for solved yes and no", ["yes", "no"], solved)
    detail, rated = rated_events(staff, question["id"])
    check("opening the link records nothing (no question.rated)", 0, len(rated))
    check("opening the link leaves it unused (rating_url still given)", True, bool(detail.get("rating_url")))

    driver.find_element(By.CSS_SELECTOR, "input[name=score][value='5']").click()
    driver.find_element(By.CSS_SELECTOR, "input[name=solved][value='yes']").click()
    driver.find_element(By.ID, "comment").send_keys("Quick and clear, thank you!")
    shot(driver, "rating-form")
    driver.find_element(By.ID, "send-rating").click()
    check("sending shows the thanks", True, bool(wait(driver, lambda d: heading(d) == "Thank you", "Thank you")))
    check("with its #message", True, "rating has been recorded" in (text_of(driver, "#message") or ""))
    check("and the subject again", subject, text_of(driver, "#subject"))
    shot(driver, "rating-thanks")
    detail, rated = rated_events(staff, question["id"])
    check("one question.rated recorded", 1, len(rated))
    check("with the score chosen", "5", rated[0]["data"].get("score") if rated else None)
    check("the rating link is used up (no rating_url)", None, detail.get("rating_url"))

    driver.get(base + path)
    check("reopening the link: Already rated", True, bool(wait(driver, lambda d: heading(d) == "Already rated", "Already rated")))
    check("with its #message", True, "rated already" in (text_of(driver, "#message") or ""))
    check("and no form", 0, len(driver.find_elements(By.ID, "rating-form")))
    _, rated = rated_events(staff, question["id"])
    check("still one question.rated", 1, len(rated))

    driver.get(base + "/v1/ratings/rt_no-such-link")
    check("an unknown link: not valid", "This link is not valid", wait(driver, lambda d: heading(d), "h1"))


def rating_german(driver, staff):
    say("rating page (German), a question in German answered by staff")
    subject = "Rechnung doppelt abgebucht"
    question = ask(staff, subject, "Mir wurde die Rechnung zweimal abgebucht.", language="de")
    check("the question is in German", "de", question["language"])
    api("POST", f"/v1/questions/{question['id']}/replies", staff, {"body": "Wir erstatten den doppelten Betrag."})
    api("POST", f"/v1/questions/{question['id']}/resolve", staff, {})
    path = rating_path(staff, question["id"])

    driver.get(base + path)
    check("the German form: Antwort bewerten", True,
          bool(wait(driver, lambda d: heading(d) == "Antwort bewerten", "Antwort bewerten")))
    check("the page's language is de", "de", driver.find_element(By.TAG_NAME, "html").get_attribute("lang"))
    check("the subject in #subject", subject, text_of(driver, "#subject"))
    check("the button says Bewertung senden", "Bewertung senden", text_of(driver, "#send-rating"))
    driver.find_element(By.CSS_SELECTOR, "input[name=score][value='4']").click()
    driver.find_element(By.CSS_SELECTOR, "input[name=solved][value='no']").click()
    driver.find_element(By.ID, "send-rating").click()
    check("sending: Vielen Dank", True, bool(wait(driver, lambda d: heading(d) == "Vielen Dank", "Vielen Dank")))
    check("with its German #message", True, "Bewertung ist gespeichert" in (text_of(driver, "#message") or ""))
    shot(driver, "rating-thanks-de")
    _, rated = rated_events(staff, question["id"])
    check("the German rating is recorded with score 4", ["4"], [event["data"].get("score") for event in rated])
    driver.get(base + path)
    check("reopening: Bereits bewertet", True,
          bool(wait(driver, lambda d: heading(d) == "Bereits bewertet", "Bereits bewertet")))
    check("with its #message", True, "bereits bewertet" in (text_of(driver, "#message") or ""))


def headers_once(staff, volunteer):
    say("headers and cookies (plain HTTP)")
    status, headers, _ = fetch("GET", "/console/login")
    check("GET /console/login", 200, status)
    policy = headers.get("Content-Security-Policy") or ""
    check("Content-Security-Policy has script-src 'self'", True, "script-src 'self'" in policy)
    check("Content-Security-Policy has no unsafe-inline", False, "unsafe-inline" in policy)
    check("X-Frame-Options", "DENY", headers.get("X-Frame-Options"))
    status, headers, text = form_login(volunteer)
    check("a volunteer's token is refused with 403", 403, status)
    check("and no session cookie", False, "paten_session" in set_cookies(headers))
    status, headers, _ = form_login(staff)
    check("a staff token signs in: 303", 303, status)
    check("to /console", "/console", headers.get("Location"))
    cookie = set_cookies(headers).get("paten_session", "")
    attributes = [part.strip().lower() for part in cookie.split(";")[1:]]
    check("the session cookie is HttpOnly", True, "httponly" in attributes)
    check("the session cookie is SameSite=Strict", True, "samesite=strict" in attributes)
    status, headers, _ = fetch("GET", "/v1/ratings/rt_no-such-link")
    check("the rating page has the same CSP", policy, headers.get("Content-Security-Policy"))


def sign_in(driver, token):
    driver.get(base + "/console/login")
    wait(driver, lambda d: d.find_elements(By.ID, "token"), "#token")
    driver.find_element(By.ID, "token").send_keys(token)
    driver.find_element(By.ID, "sign-in").click()


def console(driver, staff, volunteer):
    say("console sign-in")
    driver.get(base + "/console")
    check("/console without a session goes to the login page", True,
          bool(wait(driver, lambda d: path_of(d) == "/console/login", "/console/login")))
    sign_in(driver, volunteer)
    error = wait(driver, lambda d: text_of(d, "#login-error"), "#login-error")
    check("a volunteer's token: #login-error", True, bool(error))
    check("the error mentions staff", True, "staff" in (error or "").lower())
    check("still on the login page", "/console/login", path_of(driver))
    shot(driver, "login-refused")

    # Data for the charts must exist before the first overview on this server (its charts are cached): the ratings
    # above are. One more question, escalated while the overview is open, comes below.
    sign_in(driver, staff)
    check("a staff token: the overview at /console", True,
          bool(wait(driver, lambda d: path_of(d) == "/console" and heading(d) == "Overview", "the overview")))
    check("the header has #sign-out", 1, len(driver.find_elements(By.ID, "sign-out")))
    meta = driver.find_elements(By.CSS_SELECTOR, 'meta[name="csrf-token"]')
    check("the page has a csrf-token meta", True, bool(meta and meta[0].get_attribute("content")))
    for key in ("waiting", "open-escalations", "at-risk"):
        value = text_of(driver, f'[data-count="{key}"]')
        check(f"card {key} shows a number", True, bool(value) and value.isdigit())
    check("the table #live-escalations", 1, len(driver.find_elements(By.ID, "live-escalations")))

    say("charts")
    for chart in ("chart-first-response", "chart-csat", "chart-peer-share"):
        svgs = driver.find_elements(By.CSS_SELECTOR, f"#{chart} svg")
        check(f"#{chart} has an svg", 1, len(svgs))
        points = svgs[0].get_attribute("data-points") if svgs else None
        check(f"#{chart} has data for today (data-points >= 1)", True, (points or "").isdigit() and int(points) >= 1)

    say("live escalations")
    check("#live-state becomes live", True,
          bool(wait(driver, lambda d: text_of(d, "#live-state") == "live", "#live-state live")))
    before = int(text_of(driver, '[data-count="open-escalations"]'))
    driver.execute_script("window.__marker = 42;")
    question = ask(staff, "Cannot log in to the app after the update", "It says my password is wrong.")
    raised = api("POST", f"/v1/questions/{question['id']}/escalate", staff, {"note": "Customer locked out, please call."})
    check("an escalation is raised", "open", raised["state"])
    row_css = f'#live-escalations tbody tr[data-id="{raised["id"]}"]'
    row = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, row_css), "the new escalation's row")
    check("its row appears on the open overview", True, bool(row))
    check("without a reload (window.__marker still 42)", 42, driver.execute_script("return window.__marker;"))
    if row:
        check("the row's data-state", "open", row[0].get_attribute("data-state"))
        check("the row shows the question's subject", True, "Cannot log in to the app" in row[0].text)
    wait(driver, lambda d: text_of(d, '[data-count="open-escalations"]') == str(before + 1), "the count to change")
    check("the open-escalations card counts it, live", str(before + 1), text_of(driver, '[data-count="open-escalations"]'))
    shot(driver, "overview-live-escalation")

    say("acknowledge from the overview")
    buttons = driver.find_elements(By.CSS_SELECTOR, row_css + " button.ack")
    check("the row has an Acknowledge button", 1, len(buttons))
    if buttons:
        buttons[0].click()
        check("the page comes back to /console?done=acknowledged", True,
              bool(wait(driver, lambda d: path_of(d) == "/console?done=acknowledged", "/console?done=acknowledged")))
        check("after a reload (the marker is gone)", None, driver.execute_script("return window.__marker;"))
        flash = driver.find_elements(By.ID, "flash")
        check("the overview shows #flash", True, bool(flash))
        check("#flash says Escalation acknowledged.", "Escalation acknowledged.", flash[0].text.strip() if flash else None)
        shot(driver, "overview-acknowledged")
    stored = escalation(staff, raised["id"], question["id"])
    check("the API has it acknowledged", "acknowledged", stored and stored["state"])
    driver.get(base + "/console/escalations?state=acknowledged")
    row = wait(driver, lambda d: d.find_elements(By.CSS_SELECTOR, row_css), "the row on the escalations page")
    check("/console/escalations?state=acknowledged lists it", True, bool(row))
    check("with data-state acknowledged", "acknowledged", row[0].get_attribute("data-state") if row else None)
    shot(driver, "escalations")

    say("a form POST without the CSRF value")
    session = driver.get_cookie("paten_session")
    check("the browser holds the session cookie", True, bool(session and session.get("value")))
    check("seen by the browser as HttpOnly", True, bool(session and session.get("httpOnly")))
    check("seen by the browser as SameSite=Strict", "Strict", session and session.get("sameSite"))
    status, _, text = fetch(
        "POST", f"/console/escalations/{raised['id']}/resolve",
        {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"paten_session={session['value']}"},
        b"back=/console",
    )
    check("is refused with 403", 403, status)
    check("saying why (CSRF)", True, "CSRF" in text)
    stored = escalation(staff, raised["id"], question["id"])
    check("and the escalation is unchanged (acknowledged)", "acknowledged", stored and stored["state"])

    say("sign-out")
    driver.get(base + "/console")
    wait(driver, lambda d: d.find_elements(By.ID, "sign-out"), "#sign-out")
    driver.find_element(By.ID, "sign-out").click()
    check("#sign-out lands on /console/login", True,
          bool(wait(driver, lambda d: path_of(d) == "/console/login" and d.find_elements(By.ID, "token"), "the login page")))
    shot(driver, "signed-out")
    driver.get(base + "/console")
    check("then /console goes to the login page again", True,
          bool(wait(driver, lambda d: path_of(d) == "/console/login", "/console/login")))
    status, _, _ = fetch("GET", "/console", {"Cookie": f"paten_session={session['value']}"})
    check("the old session cookie no longer opens /console (303)", 303, status)


def main():
    staff_id, staff = account("sam", "staff", languages=["en", "de"])
    _, volunteer = account("vera", "volunteer", skills=["roaming"], languages=["en", "de"])
    say(f"accounts: staff sam ({staff_id}), volunteer vera")
    started = time.monotonic()
    driver = browser()
    say(f"{driver.capabilities.get('browserName')} {driver.capabilities.get('browserVersion')}")
    failed_step = None
    try:
        for step, run in (
            ("rating (English)", lambda: rating_english(driver, staff, volunteer)),
            ("rating (German)", lambda: rating_german(driver, staff)),
            ("headers", lambda: headers_once(staff, volunteer)),
            ("console", lambda: console(driver, staff, volunteer)),
        ):
            failed_step = step
            run()
        failed_step = None
    except Exception:  # any failure ends the walk, reported as a failed check; the browser still quits
        traceback.print_exc(file=sys.stdout)
        try:
            shot(driver, "error")
        except WebDriverException:
            pass
    finally:
        driver.quit()
    check("the walk ran to the end", None, failed_step)
    say(f"browser walk took {time.monotonic() - started:.1f} s")


main()
