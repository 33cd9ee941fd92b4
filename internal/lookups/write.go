package lookups

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/dockyard/dockyard/internal/access"
	"github.com/dockyard/dockyard/internal/audit"
	"github.com/dockyard/dockyard/internal/errdefs"
	"github.com/dockyard/dockyard/internal/knowledge"
	"github.com/dockyard/dockyard/internal/store"
)

// Upload stores r as lookup name in app: it replaces the content of the
// lookup the name resolves to when the caller may write it, and otherwise
// creates the caller's private lookup (which then takes precedence for
// them). Malformed CSV is refused with an errdefs.ErrInvalid error that
// gives the line number.
func (s *Service) Upload(ctx context.Context, app, name string, r io.Reader) (Lookup, error) {
	return s.put(ctx, app, name, r, false, "lookup.upload")
}

// Write stores the output of outputlookup: like Upload, but it needs write
// permission on a lookup the name resolves to (a caller who may only read
// it is refused), and an empty table is allowed.
func (s *Service) Write(ctx context.Context, app, name string, r io.Reader) error {
	_, err := s.put(ctx, app, name, r, true, "lookup.write")
	return err
}

func (s *Service) put(ctx context.Context, app, name string, r io.Reader, write bool, action string) (Lookup, error) {
	allowEmpty := write
	p, app, err := caller(ctx, app)
	if err != nil {
		return Lookup{}, err
	}
	if err := ValidateName(name); err != nil {
		return Lookup{}, err
	}
	body, err := s.readBounded(name, r)
	if err != nil {
		return Lookup{}, err
	}
	if err := ValidateCSV(name, body, allowEmpty); err != nil {
		return Lookup{}, err
	}
	// Who may write which lookup is checked before the content is stored
	// and again inside the transaction that makes the change.
	target := func(ctx context.Context) (Lookup, error) {
		existing, _, err := s.find(ctx, p, app, name)
		switch {
		case err == nil && !existing.Perms.Write && !write:
			existing = Lookup{} // upload: a private lookup shadows the read-only one
		case err == nil && !existing.Perms.Write:
			msg := fmt.Sprintf("you may read lookup %s but not change it: ask its owner %s or an administrator for write permission", name, existing.Owner)
			s.record(ctx, p, action, existing, audit.ResultDenied, msg)
			return Lookup{}, errdefs.PermissionDenied(msg)
		case err != nil && !errdefs.IsNotFound(err):
			return Lookup{}, err
		}
		return existing, nil
	}
	if _, err := target(ctx); err != nil {
		return Lookup{}, err
	}
	d, size, err := s.blobs.Put(ctx, bytes.NewReader(body))
	if err != nil {
		return Lookup{}, fmt.Errorf("lookup %s: store content: %w", name, err)
	}
	return store.Run(ctx, s.st, func(ctx context.Context) (Lookup, error) {
		existing, err := target(ctx)
		if err != nil {
			return Lookup{}, err
		}
		now := s.now()
		if existing.id != 0 {
			rec := store.Lookup{ID: existing.id, Name: name, App: existing.App, Owner: existing.Owner,
				Sharing: string(existing.Sharing), Read: existing.Read, Write: existing.Write,
				Digest: string(d), Size: size, Created: existing.Created, Updated: now}
			if err := s.st.UpdateLookup(ctx, rec); err != nil {
				return Lookup{}, fmt.Errorf("lookup %s: %w", name, err)
			}
			l := toLookup(p, rec)
			s.record(ctx, p, action, l, audit.ResultSuccess, "")
			return l, nil
		}
		rec, err := s.st.CreateLookup(ctx, store.Lookup{Name: name, App: app, Owner: p.User,
			Sharing: string(access.SharingUser), Read: []string{}, Write: []string{},
			Digest: string(d), Size: size, Created: now, Updated: now})
		if err != nil {
			return Lookup{}, fmt.Errorf("lookup %s: %w", name, err)
		}
		l := toLookup(p, rec)
		s.record(ctx, p, action, l, audit.ResultSuccess, "")
		return l, nil
	})
}

func (s *Service) readBounded(name string, r io.Reader) ([]byte, error) {
	if s.cfg.MaxBytes <= 0 {
		return io.ReadAll(r)
	}
	body, err := io.ReadAll(io.LimitReader(r, s.cfg.MaxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > s.cfg.MaxBytes {
		return nil, errdefs.Limitf("lookup %s is larger than the limit of %d bytes (lookups.max_bytes): split it or ask an admin to raise the limit", name, s.cfg.MaxBytes)
	}
	return body, nil
}

// ValidateCSV checks that body is a CSV table: a header of unique, non-empty
// column names, then records of the same width. Errors name the line.
func ValidateCSV(name string, body []byte, allowEmpty bool) error {
	cr := csv.NewReader(bytes.NewReader(body))
	header, err := cr.Read()
	if err == io.EOF {
		if allowEmpty {
			return nil
		}
		return errdefs.Invalidf("lookup %s is empty: its first line must name the columns", name)
	}
	if err != nil {
		return csvError(name, err)
	}
	seen := map[string]bool{}
	for i, h := range header {
		h = strings.TrimPrefix(h, "\ufeff")
		if h == "" {
			return errdefs.Invalidf("lookup %s: line 1: column %d has no name: name every column in the header", name, i+1)
		}
		if seen[h] {
			return errdefs.Invalidf("lookup %s: line 1: column %q appears twice: column names must be unique", name, h)
		}
		seen[h] = true
	}
	for {
		if _, err := cr.Read(); err == io.EOF {
			return nil
		} else if err != nil {
			return csvError(name, err)
		}
	}
}

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return errdefs.Invalidf("lookup %s: line %d: %w: fix the CSV and upload it again", name, pe.Line, pe.Err)
	}
	return errdefs.Invalidf("lookup %s: %w", name, err)
}

// Share changes a lookup's sharing and roles; only its owner or a holder of
// admin_all_objects may, and sharing it beyond its owner needs write on its
// app (see knowledge.Share).
func (s *Service) Share(ctx context.Context, app, name string, sharing access.Sharing, read, write []string) (Lookup, error) {
	return store.Run(ctx, s.st, func(ctx context.Context) (Lookup, error) { return s.shareTx(ctx, app, name, sharing, read, write) })
}

// shareTx is Share inside the store transaction of ctx.
func (s *Service) shareTx(ctx context.Context, app, name string, sharing access.Sharing, read, write []string) (Lookup, error) {
	p, app, err := caller(ctx, app)
	if err != nil {
		return Lookup{}, err
	}
	if _, err := access.ParseSharing(string(sharing)); err != nil {
		return Lookup{}, err
	}
	l, cands, err := s.find(ctx, p, app, name)
	if err != nil {
		return Lookup{}, err
	}
	cur := store.Lookup{ID: l.id, Name: l.Name, App: l.App, Owner: l.Owner, Sharing: string(l.Sharing),
		Read: l.Read, Write: l.Write, Digest: l.Digest, Size: l.Size, Created: l.Created}
	acl, err := knowledge.Share(ctx, s.ko, p, object(cur), sharing, read, write, cands, object)
	if err != nil {
		return Lookup{}, err
	}
	rec := cur
	rec.Sharing, rec.Read, rec.Write, rec.Updated = string(acl.Sharing), acl.Read, acl.Write, s.now()
	if err := s.st.UpdateLookup(ctx, rec); err != nil {
		if errdefs.IsConflict(err) {
			return Lookup{}, errdefs.Conflictf("%s already has a %s-shared lookup %s in app %s: rename or delete one of them first", l.Owner, sharing, name, l.App)
		}
		return Lookup{}, err
	}
	out := toLookup(p, rec)
	s.record(ctx, p, "lookup.share", out, audit.ResultSuccess, "")
	return out, nil
}

// Delete removes the lookup name resolves to; only its owner or a holder of
// admin_all_objects may. The content blob is left for garbage collection.
func (s *Service) Delete(ctx context.Context, app, name string) error {
	return s.st.InTx(ctx, func(ctx context.Context) error { return s.deleteTx(ctx, app, name) })
}

// deleteTx is Delete inside the store transaction of ctx.
func (s *Service) deleteTx(ctx context.Context, app, name string) error {
	p, app, err := caller(ctx, app)
	if err != nil {
		return err
	}
	l, _, err := s.find(ctx, p, app, name)
	if err != nil {
		return err
	}
	if !l.Perms.Share {
		msg := fmt.Sprintf("you may not delete lookup %s: ask its owner %s or an administrator", name, l.Owner)
		s.record(ctx, p, "lookup.delete", l, audit.ResultDenied, msg)
		return errdefs.PermissionDenied(msg)
	}
	if err := s.st.DeleteLookup(ctx, l.id); err != nil {
		return err
	}
	s.record(ctx, p, "lookup.delete", l, audit.ResultSuccess, "")
	return nil
}
