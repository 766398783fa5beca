package gmailapi

import (
	"cmp"
	"net/http"
	"strings"

	"gmailoauth/internal/sandbox/oauth"
)

// Paths of the Gmail API's discovery document, as Google serves it: the
// v1 discovery service's path, and the API's own.
const (
	DiscoveryPath   = "/discovery/v1/apis/gmail/v1/rest"
	DiscoveryPathV2 = "/$discovery/rest"
)

// gmailParameters describes the parameters of the Gmail methods the
// sandbox serves, by name, as Google's discovery document does; a key
// of parameterKeys names a parameter described otherwise for one method.
var gmailParameters = map[string]map[string]any{
	"userId":             {"type": "string", "location": "path", "required": true, "default": "me", "description": "The user's email address. The special value `me` can be used to indicate the authenticated user."},
	"id":                 {"type": "string", "location": "path", "required": true, "description": "The ID of the resource."},
	"q":                  {"type": "string", "location": "query", "description": "Only return items matching the specified query, in Gmail's search syntax."},
	"labelIds":           {"type": "string", "location": "query", "repeated": true, "description": "Only return items with labels that match all of the specified label IDs."},
	"labelId":            {"type": "string", "location": "query", "description": "Only return history records involving messages with this label ID."},
	"maxResults":         {"type": "integer", "format": "uint32", "location": "query", "default": "100", "description": "Maximum number of results to return."},
	"pageToken":          {"type": "string", "location": "query", "description": "Page token to retrieve a specific page of results in the list."},
	"includeSpamTrash":   {"type": "boolean", "location": "query", "default": "false", "description": "Include items from SPAM and TRASH in the results."},
	"format":             {"type": "string", "location": "query", "default": "full", "enum": []string{"minimal", "full", "raw", "metadata"}, "description": "The format to return the message in."},
	"threadFormat":       {"type": "string", "location": "query", "default": "full", "enum": []string{"full", "metadata", "minimal"}, "description": "The format to return the messages in."},
	"metadataHeaders":    {"type": "string", "location": "query", "repeated": true, "description": "When given and format is METADATA, only include headers specified."},
	"startHistoryId":     {"type": "string", "format": "uint64", "location": "query", "description": "Required. Returns history records after the specified startHistoryId."},
	"historyTypes":       {"type": "string", "location": "query", "repeated": true, "enum": []string{"messageAdded", "messageDeleted", "labelAdded", "labelRemoved"}, "description": "History types to be returned by the function."},
	"internalDateSource": {"type": "string", "location": "query", "default": "receivedTime", "enum": []string{"receivedTime", "dateHeader"}, "description": "Source for Gmail's internal date of the message."},
	"deleted":            {"type": "boolean", "location": "query", "default": "false", "description": "Mark the email as permanently deleted (not TRASH)."},
}

// parameterKeys are the parameters of gmailParameters whose name in the
// discovery document is another: threads.get's format, which has no raw.
var parameterKeys = map[string]string{"threadFormat": "format"}

// gmailMethodShapes are what the discovery document says of each method
// besides its route: its parameters, request and response.
var gmailMethodShapes = map[string]struct {
	parameters        []string
	request, response string
}{
	"gmail.users.getProfile":      {[]string{"userId"}, "", "Profile"},
	"gmail.users.messages.list":   {[]string{"userId", "q", "labelIds", "maxResults", "pageToken", "includeSpamTrash"}, "", "ListMessagesResponse"},
	"gmail.users.messages.insert": {[]string{"userId", "internalDateSource", "deleted"}, "Message", "Message"},
	"gmail.users.messages.get":    {[]string{"userId", "id", "format", "metadataHeaders"}, "", "Message"},
	"gmail.users.messages.modify": {[]string{"userId", "id"}, "ModifyMessageRequest", "Message"},
	"gmail.users.labels.list":     {[]string{"userId"}, "", "ListLabelsResponse"},
	"gmail.users.labels.get":      {[]string{"userId", "id"}, "", "Label"},
	"gmail.users.threads.list":    {[]string{"userId", "q", "labelIds", "maxResults", "pageToken", "includeSpamTrash"}, "", "ListThreadsResponse"},
	"gmail.users.threads.get":     {[]string{"userId", "id", "threadFormat", "metadataHeaders"}, "", "Thread"},
	"gmail.users.history.list":    {[]string{"userId", "startHistoryId", "labelId", "historyTypes", "maxResults", "pageToken"}, "", "ListHistoryResponse"},
}

// gmailSchemas names the schemas the methods refer to, with their fields;
// clients built from the document read them for their documentation.
var gmailSchemas = map[string][]string{
	"Profile":              {"emailAddress", "messagesTotal", "threadsTotal", "historyId"},
	"Message":              {"id", "threadId", "labelIds", "snippet", "payload", "sizeEstimate", "historyId", "internalDate", "raw"},
	"ListMessagesResponse": {"messages", "nextPageToken", "resultSizeEstimate"},
	"ModifyMessageRequest": {"addLabelIds", "removeLabelIds"},
	"Label":                {"id", "name", "messageListVisibility", "labelListVisibility", "type", "messagesTotal", "messagesUnread", "threadsTotal", "threadsUnread"},
	"ListLabelsResponse":   {"labels"},
	"Thread":               {"id", "snippet", "historyId", "messages"},
	"ListThreadsResponse":  {"threads", "nextPageToken", "resultSizeEstimate"},
	"ListHistoryResponse":  {"history", "nextPageToken", "historyId"},
}

// ServeDiscovery is the Gmail API's discovery document, with exactly
// the methods the sandbox serves, and its root and batch path at the
// sandbox.
func (s *API) ServeDiscovery(w http.ResponseWriter, r *http.Request) {
	root := oauth.Issuer(r) + "/"
	users := map[string]any{"methods": map[string]any{}, "resources": map[string]any{}}
	for _, method := range s.gmailMethods() {
		httpMethod, path, _ := strings.Cut(method.pattern, " ")
		shape := gmailMethodShapes[method.id]
		parameters := map[string]any{}
		var order []string
		for _, key := range shape.parameters {
			name := cmp.Or(parameterKeys[key], key)
			parameters[name] = gmailParameters[key]
			if gmailParameters[key]["required"] == true {
				order = append(order, name)
			}
		}
		description := map[string]any{
			"id":             method.id,
			"path":           strings.TrimPrefix(path, "/"),
			"flatPath":       strings.TrimPrefix(path, "/"),
			"httpMethod":     httpMethod,
			"parameters":     parameters,
			"parameterOrder": order,
			"response":       map[string]string{"$ref": shape.response},
			"scopes":         method.scopes,
		}
		if shape.request != "" {
			description["request"] = map[string]string{"$ref": shape.request}
		}
		// gmail.users.getProfile is a method of users; the others of a
		// resource below it, named by the third part of the ID.
		parts := strings.Split(method.id, ".")
		if len(parts) == 3 {
			users["methods"].(map[string]any)[parts[2]] = description
			continue
		}
		resources := users["resources"].(map[string]any)
		resource, ok := resources[parts[2]].(map[string]any)
		if !ok {
			resource = map[string]any{"methods": map[string]any{}}
			resources[parts[2]] = resource
		}
		resource["methods"].(map[string]any)[parts[3]] = description
	}
	schemas := map[string]any{}
	for name, fields := range gmailSchemas {
		properties := map[string]any{}
		for _, field := range fields {
			properties[field] = map[string]string{"type": "any"}
		}
		schemas[name] = map[string]any{"id": name, "type": "object", "properties": properties}
	}
	scopes := map[string]any{}
	for _, scope := range oauth.GmailScopes {
		scopes[scope] = map[string]string{"description": scope}
	}
	query := map[string]string{"type": "string", "location": "query"}
	writeAPIJSON(oauth.PublicDocument(w), r, http.StatusOK, map[string]any{
		"kind":             "discovery#restDescription",
		"discoveryVersion": "v1",
		"id":               "gmail:v1",
		"name":             "gmail",
		"version":          "v1",
		"title":            "Gmail API (sandbox)",
		"description":      "The Gmail API methods the sandbox Google serves.",
		"protocol":         "rest",
		"rootUrl":          root,
		"servicePath":      "",
		"baseUrl":          root,
		"batchPath":        "batch",
		"parameters": map[string]any{
			"alt":    map[string]any{"type": "string", "location": "query", "default": "json", "enum": []string{"json"}},
			"fields": query, "key": query, "quotaUser": query, "access_token": query, "oauth_token": query,
			"upload_protocol": query, "uploadType": query,
			"prettyPrint": map[string]any{"type": "boolean", "location": "query", "default": "true"},
			"$.xgafv":     map[string]any{"type": "string", "location": "query", "enum": []string{"1", "2"}},
		},
		"auth":      map[string]any{"oauth2": map[string]any{"scopes": scopes}},
		"schemas":   schemas,
		"resources": map[string]any{"users": users},
	})
}
