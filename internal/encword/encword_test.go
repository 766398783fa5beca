package encword

import "testing"

func TestJoin(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "one word stays", in: "=?UTF-8?B?5pel?=", want: "=?UTF-8?B?5pel?="},
		{name: "B words joined as bytes", in: "=?UTF-8?B?5pel5pys6Ko=?= =?UTF-8?B?ng==?=", want: "=?UTF-8?B?5pel5pys6Kqe?="},
		{name: "Q words joined as text", in: "=?iso-2022-jp?Q?=1B=24B=3B?=\r\n =?iso-2022-jp?Q?3ED=1B=28B?=", want: "=?iso-2022-jp?Q?=1B=24B=3B3ED=1B=28B?="},
		{name: "charset compared without case", in: "=?utf-8?q?a?= =?UTF-8?Q?b?=", want: "=?utf-8?q?ab?="},
		{name: "other charset not joined", in: "=?UTF-8?Q?a?= =?ISO-8859-1?Q?b?=", want: "=?UTF-8?Q?a?= =?ISO-8859-1?Q?b?="},
		{name: "other encoding not joined", in: "=?UTF-8?Q?a?= =?UTF-8?B?Yg==?=", want: "=?UTF-8?Q?a?= =?UTF-8?B?Yg==?="},
		{name: "text between keeps words apart", in: "=?UTF-8?Q?a?= x =?UTF-8?Q?b?=", want: "=?UTF-8?Q?a?= x =?UTF-8?Q?b?="},
		{name: "bad base64 left as it came", in: "=?UTF-8?B?5pel?= =?UTF-8?B?***?=", want: "=?UTF-8?B?5pel?= =?UTF-8?B?***?="},
		{name: "words around text", in: "Re: =?UTF-8?Q?a?= =?UTF-8?Q?b?= (2)", want: "Re: =?UTF-8?Q?ab?= (2)"},
	}
	for _, tt := range tests {
		if got := Join(tt.in); got != tt.want {
			t.Errorf("%s: Join(%q) = %q; want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestDecode(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{name: "ISO-2022-JP cut inside a character", in: "=?ISO-2022-JP?B?GyRCM3Q8MA==?= =?ISO-2022-JP?B?MnE8UiU1JXMlVyVrPiY7dhsoQg==?=", want: "株式会社サンプル商事"},
		{name: "white space between words dropped", in: "=?UTF-8?Q?a?=  =?ISO-8859-1?Q?b?=", want: "ab"},
		{name: "white space beside text kept", in: "x =?UTF-8?Q?a?= y", want: "x a y"},
		{name: "unknown charset as it came", in: "=?x-unknown?Q?a?= =?UTF-8?Q?b?=", want: "=?x-unknown?Q?a?= b"},
		{name: "charset known without a decoder as it came", in: "=?UTF-7?Q?a?=", want: "=?UTF-7?Q?a?="},
		{name: "Outlook's Korean label", in: "=?ks_c_5601-1987?B?sei5zsHY?=", want: "김민준"},
		{name: "no words", in: "plain", want: "plain"},
	}
	for _, tt := range tests {
		if got := Decode(tt.in); got != tt.want {
			t.Errorf("%s: Decode(%q) = %q; want %q", tt.name, tt.in, got, tt.want)
		}
	}
}
