/* A second copy of the note, for the image that carries two. */
#include "note.S"
