module gmailoauth

go 1.26.8

require (
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
	golang.org/x/net v0.62.0
	golang.org/x/oauth2 v0.38.0
)
