"""Google's Python client against the standalone sandbox Google.

Drives `gmailoauth sandbox -auto-approve hanako.yamada@example.jp` as a
program written against Google does, nothing changed but the endpoints:
google-auth-oauthlib for the sign-in, googleapiclient built from the
sandbox's discovery document for the mail. The Go test beside it
(python_test.go) starts the sandbox and runs this with its settings in the
environment: SANDBOX_URL, GOOGLE_CLIENT_ID, GOOGLE_CLIENT_SECRET,
REDIRECT_URI and ACCOUNT. It prints one line per check and exits 1 at the
first that fails.
"""

import os
import sys

# The sandbox is plain http on loopback; oauthlib refuses http unless told.
os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"

import requests  # noqa: E402
from google_auth_oauthlib.flow import Flow  # noqa: E402
from googleapiclient.discovery import build  # noqa: E402
from googleapiclient.errors import HttpError  # noqa: E402
from googleapiclient.http import BatchHttpRequest  # noqa: E402

# Full names: oauthlib raises "Scope has changed" when the scope Google
# returns (in full) is not the one asked for, as "email" would be.
SCOPES = [
    "openid",
    "https://www.googleapis.com/auth/userinfo.email",
    "https://www.googleapis.com/auth/gmail.modify",
]
UNREAD = 75  # in hanako.yamada@example.jp's seeded mailbox


def check(what, ok, detail=""):
    if not ok:
        print("FAIL", what, detail)
        sys.exit(1)
    print("ok  ", what)


def sign_in(base, client_id, client_secret, redirect_uri):
    """The authorization code flow of a web-server quickstart; the sandbox
    answers the authorization request at once (-auto-approve)."""
    flow = Flow.from_client_config(
        {"web": {"client_id": client_id, "client_secret": client_secret,
                 "auth_uri": base + "/o/oauth2/v2/auth", "token_uri": base + "/token",
                 "redirect_uris": [redirect_uri]}},
        scopes=SCOPES, redirect_uri=redirect_uri)
    url, _ = flow.authorization_url(access_type="offline", prompt="consent")
    answer = requests.get(url, allow_redirects=False, timeout=60)
    check("GET the authorization URL answers with a redirect", answer.status_code == 302, answer.status_code)
    flow.fetch_token(authorization_response=answer.headers["Location"])
    credentials = flow.credentials
    check("sign-in gives a refresh token and an ID token",
          credentials.refresh_token and credentials.id_token, credentials.__dict__)
    return credentials


def main():
    base = os.environ["SANDBOX_URL"]
    account = os.environ["ACCOUNT"]
    credentials = sign_in(base, os.environ["GOOGLE_CLIENT_ID"], os.environ["GOOGLE_CLIENT_SECRET"],
                          os.environ["REDIRECT_URI"])
    service = build("gmail", "v1", credentials=credentials, cache_discovery=False,
                    discoveryServiceUrl=base + "/discovery/v1/apis/{api}/{apiVersion}/rest")
    users = service.users()

    profile = users.getProfile(userId="me").execute()
    check("users.getProfile", profile["emailAddress"] == account, profile)

    unread = []
    request = users.messages().list(userId="me", q="is:unread", maxResults=20)
    while request is not None:
        page = request.execute()
        unread += page.get("messages", [])
        request = users.messages().list_next(request, page)
    check("messages.list q=is:unread, every page", len(unread) == UNREAD, len(unread))

    subjects = {}

    def answered(request_id, response, exception):
        if exception is not None:
            subjects[request_id] = exception
            return
        headers = response["payload"]["headers"]
        subjects[request_id] = [h["value"] for h in headers if h["name"] == "Subject"]

    batch = service.new_batch_http_request(callback=answered)
    check("new_batch_http_request is a BatchHttpRequest", isinstance(batch, BatchHttpRequest), type(batch))
    for message in unread[:50]:
        batch.add(users.messages().get(userId="me", id=message["id"], format="metadata",
                                       metadataHeaders=["Subject"]), request_id=message["id"])
    batch.execute()
    # Each answer has the Subject header alone (one seeded message has none).
    check("a batch of 50 messages.get format=metadata, each answered",
          len(subjects) == 50 and all(isinstance(s, list) and len(s) <= 1 for s in subjects.values())
          and any(subjects.values()),
          [s for s in subjects.values() if not isinstance(s, list) or len(s) > 1][:3])

    try:
        users.messages().get(userId="me", id="zzz").execute()
        check("messages.get of a malformed ID is an HttpError", False, "it answered")
    except HttpError as error:
        check("messages.get of a malformed ID is HttpError 400 Invalid id value",
              error.resp.status == 400 and b"Invalid id value" in error.content, error)

    # Three changes after the profile's historyId, read one a page, as
    # list_next pages: page 2 is asked for with pageToken added to the
    # first page's query.
    start = profile["historyId"]
    for message in unread[:3]:
        users.messages().modify(userId="me", id=message["id"], body={"removeLabelIds": ["UNREAD"]}).execute()
    records, pages = [], 0
    request = users.history().list(userId="me", startHistoryId=start, maxResults=1)
    while request is not None and pages < 10:
        try:
            page = request.execute()
        except HttpError as error:
            check("history.list page %d" % (pages + 1), False, error)
        pages += 1
        records += page.get("history", [])
        request = users.history().list_next(request, page)
    check("history.list, one record a page, every page", len(records) == 3 and pages == 3,
          "%d records in %d pages" % (len(records), pages))


if __name__ == "__main__":
    main()
