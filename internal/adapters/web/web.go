// Package web serves itfit's download links, GET /export/<token>: an
// account manager's export (CSV or JSON) and a client's recommendation as
// a PDF. Like the chat adapters it only verifies (the link's signature,
// expiry and single use, in internal/links), asks the chat layer for the
// content (whose clients, which result: the owner named in the link), and
// renders it. A link that is forged, altered, expired or used gets 404 and
// changes nothing; so does one whose result is gone (the client forgot).
package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/itfit/itfit/internal/chat"
	"github.com/itfit/itfit/internal/conversation"
	"github.com/itfit/itfit/internal/links"
	"github.com/itfit/itfit/internal/obs"
	"github.com/itfit/itfit/internal/portfolio"
)

// Flows is what the handler asks of the chat layer (*chat.Service).
type Flows interface {
	ExportRows(ctx context.Context, who chat.Who, o portfolio.Order) ([]portfolio.Row, error)
	Report(ctx context.Context, u conversation.UserKey, completed time.Time) (chat.Message, error)
}

var _ Flows = (*chat.Service)(nil)

// Handler serves the links.
type Handler struct {
	links *links.Signer
	flows Flows
	log   *slog.Logger
}

// New returns the handler.
func New(l *links.Signer, f Flows, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{links: l, flows: f, log: log}
}

// Mount adds GET /export/{token}. The request log names the route, never
// the path: the token is a credential for 15 minutes.
func (h *Handler) Mount(mux *http.ServeMux) { mux.Handle("GET /export/{token}", h) }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	log := obs.Logger(r.Context(), h.log)
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("X-Content-Type-Options", "nosniff")
	c, err := h.links.Use(r.Context(), r.PathValue("token"))
	switch {
	case errors.Is(err, links.ErrInvalid), errors.Is(err, links.ErrExpired), errors.Is(err, links.ErrUsed):
		log.Info("download link refused", "reason", err)
		http.NotFound(w, r)
		return
	case err != nil:
		log.Error("download link", "err", err)
		http.Error(w, "itfit is temporarily unavailable; ask for a new link in a minute", http.StatusServiceUnavailable)
		return
	}
	var (
		body        bytes.Buffer
		ctype, name string
	)
	switch c.Kind {
	case links.ExportCSV, links.ExportJSON:
		who := chat.Who{Key: conversation.Key{UserKey: c.Owner()}, Aliases: c.Users[1:]}
		rows, err := h.flows.ExportRows(r.Context(), who, portfolio.Order(c.Sort))
		if err != nil {
			h.failed(w, log, err)
			return
		}
		if c.Kind == links.ExportJSON {
			ctype, name, err = "application/json", "itfit-clients.json", portfolio.WriteJSON(&body, rows)
		} else {
			ctype, name, err = "text/csv; charset=utf-8", "itfit-clients.csv", portfolio.WriteCSV(&body, rows)
		}
		if err != nil {
			h.failed(w, log, err)
			return
		}
		log.Info("export downloaded", "format", string(c.Kind), "clients", len(rows))
	case links.Report:
		m, err := h.flows.Report(r.Context(), c.Owner(), time.Unix(c.Result, 0).UTC())
		if errors.Is(err, chat.ErrNoReport) {
			log.Info("download link refused", "reason", "the result is gone")
			http.NotFound(w, r)
			return
		}
		if err != nil {
			h.failed(w, log, err)
			return
		}
		pdf, err := PDF(m)
		if err != nil {
			h.failed(w, log, err)
			return
		}
		body.Write(pdf)
		ctype, name = "application/pdf", "itfit-recommendation.pdf"
		log.Info("report downloaded")
	default:
		http.NotFound(w, r)
		return
	}
	hdr.Set("Content-Type", ctype)
	hdr.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(body.Bytes())
}

func (h *Handler) failed(w http.ResponseWriter, log *slog.Logger, err error) {
	log.Error("download", "err", err)
	if errors.Is(err, conversation.ErrUnavailable) {
		http.Error(w, "itfit is temporarily unavailable; ask for a new link in a minute", http.StatusServiceUnavailable)
		return
	}
	http.Error(w, "something went wrong; ask for a new link", http.StatusInternalServerError)
}
