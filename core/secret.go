package core

// SecretStore keeps secrets (practitioner keys, the webhook secret) outside
// the database and outside any file PT Desk writes: in the OS keyring.
type SecretStore interface {
	// Secret returns the secret stored under name, or an ENOTFOUND *Error.
	Secret(name string) (string, error)
	SetSecret(name, secret string) error
	// DeleteSecret removes the secret; removing a missing one is not an error.
	DeleteSecret(name string) error
}

// PractitionerKeyName is the keyring entry name of a practitioner's key in
// the directory with the given StoreID.
func PractitionerKeyName(storeID, practitionerID string) string {
	return storeID + "/practitioner/" + practitionerID
}
