package sqlite

import "time"

// koText holds the text columns every knowledge object row (model, lookup,
// notebook) has, as scanned, until decode gives them their types.
type koText struct{ read, write, created, updated string }

// decode fills a knowledge object's read and write roles and its times.
func (k koText) decode(read, write *[]string, created, updated *time.Time) error {
	var err error
	if *read, err = decList(k.read); err != nil {
		return err
	}
	if *write, err = decList(k.write); err != nil {
		return err
	}
	if *created, err = parseTime(k.created); err != nil {
		return err
	}
	*updated, err = parseTime(k.updated)
	return err
}

// ownerScope is the owner part of a knowledge object's unique key: private
// objects are unique per owner, shared ones per app.
func ownerScope(sharing, owner string) string {
	if sharing == "user" {
		return owner
	}
	return ""
}
