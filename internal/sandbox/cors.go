package sandbox

import "net/http"

// corsMaxAge is how long a browser may keep a preflight's answer.
const corsMaxAge = "3600"

// corsExposed are the response headers a page may read, besides the ones
// every browser lets it.
const corsExposed = "Content-Encoding, Content-Length, Date, Server, Vary, WWW-Authenticate"

// cors answers browsers' cross-origin requests as Google's API front end
// does, for any origin: a preflight (OPTIONS with Origin and
// Access-Control-Request-Method) gets 200 with the methods and the headers
// asked for, for an hour, and goes no further; any other request with an
// Origin gets that origin allowed. Tokens travel in the Authorization
// header, never in cookies, so no credentials are allowed.
func cors(methods string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", methods)
			if requested := r.Header.Get("Access-Control-Request-Headers"); requested != "" {
				h.Set("Access-Control-Allow-Headers", requested)
			}
			h.Set("Access-Control-Max-Age", corsMaxAge)
			h["Vary"] = []string{"Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers"}
			w.WriteHeader(http.StatusOK)
			return
		}
		h.Set("Access-Control-Expose-Headers", corsExposed)
		next.ServeHTTP(w, r)
	})
}
