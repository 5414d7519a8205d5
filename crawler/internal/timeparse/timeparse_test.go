package timeparse

import (
	"testing"
	"time"
)

func TestParseTime(t *testing.T) {
	sgt := time.FixedZone("SGT", 8*3600)
	want := time.Date(2021, 11, 18, 17, 28, 39, 0, sgt)
	wantMin := time.Date(2021, 11, 18, 17, 28, 0, 0, sgt)
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2021-11-18T17:28:39+08:00", want},
		{"2021-11-18T09:28:39Z", want},
		{"2021-11-18T09:28:39.000Z", want},
		{"2021-11-18 17:28:39", want},
		{"2021-11-18 17:28", wantMin},
		{"  2021-11-18 17:28\n", wantMin},
		{"1637227719", want},
		{"1637227719000", want},
		{"Thu, 18 Nov 2021 09:28:39 GMT", want},
		{"Thu, 18 Nov 2021 17:28:39 +0800", want},
		{"发布 / 2021年11月18日 5:28 PM", wantMin},
		{"发布 / 2021年11月18日 下午5:28", wantMin},
		{"2021年11月18日 17:28", wantMin},
		{"2021年11月18日 12:05 AM", time.Date(2021, 11, 18, 0, 5, 0, 0, sgt)},
		{"2021年11月18日", time.Date(2021, 11, 18, 0, 0, 0, 0, sgt)},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in, sgt)
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	for _, bad := range []string{"", "yesterday", "2021年13月40日", "2021年2月30日", "12", "NaN", "2021-02-30"} {
		if got, err := Parse(bad, sgt); err == nil {
			t.Errorf("Parse(%q): got %v, want an error", bad, got)
		}
	}
}

// TestParseTimeZones: numeric offsets and GMT/UTC/UT/Z are honoured, any
// other zone written as letters is the configured zone, in a feed's dates
// and a page's alike.
func TestParseTimeZones(t *testing.T) {
	sgp := singapore(t)
	tests := []struct {
		in   string
		want string // RFC 3339, "" for an error
	}{
		{"Fri, 01 Mar 2024 06:07:00 GMT", "2024-03-01T06:07:00Z"},
		{"Fri, 01 Mar 2024 14:07:00 SGT", "2024-03-01T14:07:00+08:00"},
		{"Fri, 1 Mar 2024 14:07:00 -0500", "2024-03-01T14:07:00-05:00"},
		{"01 Mar 24 14:07:00 +0800", "2024-03-01T14:07:00+08:00"},
		{"Fri, 01 Mar 2024 14:07:00 UTC+08:00", "2024-03-01T14:07:00+08:00"},
		{"2024-03-01T14:07:00.123+08:00", "2024-03-01T14:07:00.123+08:00"},
		{"\u00a0 2024-03-01  14:07:00 \n", "2024-03-01T14:07:00+08:00"},
		{"Mar 1, 2024 2:07 PM", "2024-03-01T14:07:00+08:00"},
		{"Thu, 18 Nov 2021 17:28:39 SGT", "2021-11-18T17:28:39+08:00"},
		{"Thu, 18 Nov 2021 17:28:39 CST", "2021-11-18T17:28:39+08:00"},
		{"Published: 18 Nov 2021 09:28:39 GMT", "2021-11-18T09:28:39Z"},
		{"2021年11月18日 09:28 GMT", "2021-11-18T09:28:00Z"},
		{"2021年11月18日 下午5:28 UTC+8", "2021-11-18T17:28:00+08:00"},
		{"2021年11月18日\u300017:28", "2021-11-18T17:28:00+08:00"},
		{"发布(2021年11月18日)", "2021-11-18T00:00:00+08:00"},
		{"发布 / 2021-11-18 17:28 (新加坡)", "2021-11-18T17:28:00+08:00"},
		{"1637227719 UTC", "2021-11-18T09:28:39Z"},
		{"Fri, 01 Mar 2024 14:07:00 GMT+99", ""},
		{"Fri, 31 Feb 2024 14:07:00 +0800", ""},
		{"SGT", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := Parse(tt.in, sgp)
			if tt.want == "" {
				if err == nil {
					t.Errorf("got %s, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %s", err, tt.want)
			}
			want, _ := time.Parse(time.RFC3339Nano, tt.want)
			if !got.Equal(want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func singapore(t testing.TB) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Singapore")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseMoreFormats(t *testing.T) {
	sgt := time.FixedZone("SGT", 8*3600)
	cases := []struct {
		in   string
		want string
	}{
		{"2024年3月1日 下午2:05", "2024-03-01T14:05:00+08:00"},
		{"2019-11-19 02:24:00 UTC", "2019-11-19T02:24:00Z"},
		{"2019-11-18 17:19:53 GMT", "2019-11-18T17:19:53Z"},
		{"2019-11-19T13:16+0000", "2019-11-19T13:16:00Z"},
		{"01:38:07 PM IST Nov 20, 2019", "2019-11-20T13:38:07+08:00"},
		{"19. November 2019", "2019-11-19T00:00:00+08:00"},
		{"Dienstag, 19. November 2019, 14:05 Uhr", "2019-11-19T14:05:00+08:00"},
		{"19 novembre 2019", "2019-11-19T00:00:00+08:00"},
		{"19 de noviembre de 2019", "2019-11-19T00:00:00+08:00"},
		{"1. März 2024", "2024-03-01T00:00:00+08:00"},
		{"19.11.2019, 14:05 Uhr", "2019-11-19T14:05:00+08:00"},
		{"November 19, 2019", "2019-11-19T00:00:00+08:00"},
	}
	for _, c := range cases {
		got, err := Parse(c.in, sgt)
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if s := got.Format(time.RFC3339); s != c.want {
			t.Errorf("Parse(%q) = %s, want %s", c.in, s, c.want)
		}
	}
	for _, bad := range []string{"0001-01-01T00:00:00Z", "0001-01-01", "19 blah 2019", "32. November 2019"} {
		if got, err := Parse(bad, sgt); err == nil {
			t.Errorf("Parse(%q) = %v, want an error", bad, got)
		}
	}
}

func TestFind(t *testing.T) {
	cases := []struct {
		in   string
		want string // "" for none
	}{
		{"Von Anna Muster | 19. November 2019, 14:05 Uhr | Lesezeit 3 Minuten", "2019-11-19T14:05:00Z"},
		{"Par Jean Dupont Publié le 19 novembre 2019 à 14h05", "2019-11-19T14:05:00Z"},
		{"Por Ana, 19 de noviembre de 2019", "2019-11-19T00:00:00Z"},
		{"新华社 2024年3月1日 下午2:05 来源", "2024-03-01T14:05:00Z"},
		{"Updated: 01:38:07 PM IST Nov 20, 2019 share", "2019-11-20T13:38:07Z"},
		{"Posted 2019-11-19 02:24:00 UTC by x", "2019-11-19T02:24:00Z"},
		{"By Jo Smith, March 1, 2024", "2024-03-01T00:00:00Z"},
		{"Stand: 19.11.2019 14:05 Uhr", "2019-11-19T14:05:00Z"},
		{"no date here, 42 readers, 3 of May", ""},
	}
	for _, c := range cases {
		got, ok := Find(c.in, time.UTC)
		switch {
		case c.want == "" && ok:
			t.Errorf("Find(%q) = %v, want none", c.in, got)
		case c.want != "" && !ok:
			t.Errorf("Find(%q): none, want %s", c.in, c.want)
		case ok && got.Format(time.RFC3339) != c.want:
			t.Errorf("Find(%q) = %s, want %s", c.in, got.Format(time.RFC3339), c.want)
		}
	}
}
