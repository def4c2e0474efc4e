package portfolio

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// Row is one client of an export. The CSV's columns are Columns, in that
// order, with the JSON's field names; README.md documents them.
type Row struct {
	Platform      string `json:"platform"`
	Workspace     string `json:"workspace"`
	WorkspaceName string `json:"workspace_name"`
	User          string `json:"user"`
	Name          string `json:"name"`
	Verdict       string `json:"verdict"`
	VerdictName   string `json:"verdict_name"`
	Strength      string `json:"strength"`
	CompletedAt   string `json:"completed_at"`
	// PreviousVerdict is "" on a first result.
	PreviousVerdict string `json:"previous_verdict"`
	VerdictMoved    bool   `json:"verdict_moved"`
	AnswersChanged  int    `json:"answers_changed"`
	RevisitDue      string `json:"revisit_due"`
}

// Columns are the CSV's header.
var Columns = []string{"platform", "workspace", "workspace_name", "user", "name", "verdict", "verdict_name", "strength",
	"completed_at", "previous_verdict", "verdict_moved", "answers_changed", "revisit_due"}

// Time is how an export writes times: RFC 3339 in UTC.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// WriteCSV writes the header and a line per row. A cell that a
// spreadsheet would run as a formula (=, +, -, @) is prefixed with a
// quote: names come from the platforms and are chosen by people.
func WriteCSV(w io.Writer, rows []Row) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, r := range rows {
		rec := []string{r.Platform, r.Workspace, r.WorkspaceName, r.User, r.Name, r.Verdict, r.VerdictName, r.Strength,
			r.CompletedAt, r.PreviousVerdict, strconv.FormatBool(r.VerdictMoved), strconv.Itoa(r.AnswersChanged), r.RevisitDue}
		for i, c := range rec {
			if c != "" && (c[0] == '=' || c[0] == '+' || c[0] == '-' || c[0] == '@') {
				rec[i] = "'" + c
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteJSON writes {"clients": [rows]}.
func WriteJSON(w io.Writer, rows []Row) error {
	if rows == nil {
		rows = []Row{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Clients []Row `json:"clients"`
	}{rows})
}
